// A plan on a map and a timeline per courier: select a stop, move it to another courier or
// position, lock it, take it off; every change goes through PATCH /plans/{id}, and the
// violations it causes show on the stop at once. Publishing confirms what is still wrong.
import { get, patch, post } from './api.js';

const root = document.getElementById('plan');
const planId = root.dataset.plan;
const words = JSON.parse(document.getElementById('words').textContent);
const lang = document.documentElement.lang || 'en';
// Times in the depot's zone (the dispatcher may sit elsewhere).
const clock = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZone: root.dataset.zone || undefined });
const error = document.getElementById('plan-error');
const COLOURS = 10;

let plan = null;
let view = null;
let selected = null;
let map = null;
let layers = null;

const at = (iso) => (iso ? clock.format(new Date(iso)) : '—');
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children);
  return node;
};
const svg = (tag, attrs = {}) => {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
};

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? '');
}

/** A violation in words: "late by 12 min", "missing skill: cash". */
function describe(v) {
  const template = words.violations[v.kind];
  if (!template) return v.kind;
  return fill(template, {
    m: Math.round((v.seconds || 0) / 60),
    load: v.load,
    capacity: v.capacity,
    skills: (v.skills || []).join(', '),
  });
}

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function load() {
  try {
    const [planAnswer, routesAnswer] = await Promise.all([
      get(`/api/v1/plans/${planId}`),
      get(`/api/v1/plans/${planId}/routes`),
    ]);
    if (!planAnswer.ok) return showError(planAnswer.problem?.detail || '');
    plan = planAnswer.data;
    view = routesAnswer.ok ? routesAnswer.data : { routes: [], unassigned: [] };
    if (!routesAnswer.ok && !['queued', 'running'].includes(plan.status)) {
      showError(routesAnswer.problem?.detail || '');
    }
  } catch {
    return showError(words.network_error);
  }
  render();
}

function jobStops(route) {
  return route.stops.filter((s) => s.kind === 'job');
}

function findStop(jobId) {
  for (const [index, route] of view.routes.entries()) {
    const position = jobStops(route).findIndex((s) => s.job_id === jobId);
    if (position >= 0) return { route, index, position, stop: jobStops(route)[position] };
  }
  const job = view.unassigned.find((u) => u.job_id === jobId);
  return job ? { route: null, index: -1, position: -1, stop: job } : null;
}

function render() {
  document.getElementById('plan-status').textContent = words.statuses[plan.status] || plan.status;
  document.getElementById('plan-status').dataset.status = plan.status;
  renderKpis();
  renderMap();
  renderTimeline();
  renderRoutes();
  renderUnassigned();
  renderPanel();
  const publish = document.getElementById('publish');
  publish.hidden = plan.status !== 'draft';
  // A day under way can be planned again from where it stands; late visits say why.
  const reoptimize = document.getElementById('reoptimize');
  const late = (view?.routes || []).reduce((n, r) => n + (r.delayed || 0), 0);
  reoptimize.hidden = plan.status !== 'published';
  reoptimize.classList.toggle('urgent', late > 0);
  reoptimize.textContent = late > 0 ? `${words.reoptimize} · ${late} ${words.delayed}` : words.reoptimize;
}

function renderKpis() {
  const list = document.getElementById('kpis');
  list.replaceChildren();
  const add = (key, value) => {
    if (value === undefined || value === null) return;
    list.append(el('div', { 'data-kpi': key }, el('dt', { text: words.kpis[key] }), el('dd', { text: value })));
  };
  const k = plan.kpis;
  if (k) {
    add('jobs_planned', k.jobs_planned);
    add('jobs_unassigned', k.jobs_unassigned);
    add('vehicles_used', k.vehicles_used);
    add('distance_km', k.distance_km.toFixed(1));
    add('working_hours', k.working_hours.toFixed(1));
    if (k.min_slack_minutes !== null) add('min_slack_minutes', Math.round(k.min_slack_minutes));
    add('violations', k.violations);
  }
  if (plan.status === 'published') {
    // The day under way: what the couriers reported so far.
    const outcomes = view.routes.flatMap((r) => jobStops(r).map((s) => s.outcome));
    add('done', outcomes.filter((o) => o === 'done').length);
    add('under_way', outcomes.filter((o) => o === 'en_route' || o === 'arrived').length);
    add('failed', outcomes.filter((o) => o === 'failed').length);
  }
}

function renderMap() {
  if (!window.L) return;
  if (!map) {
    map = window.L.map('map', { zoomSnap: 0.25 });
    // With no tiles reachable the routes still draw on the plain background.
    window.L.tileLayer(root.dataset.tiles, {
      maxZoom: 19,
      attribution: '&copy; OpenStreetMap contributors',
    }).addTo(map);
    layers = window.L.layerGroup().addTo(map);
  }
  layers.clearLayers();
  const bounds = [];
  const depots = new Map();
  view.routes.forEach((route, index) => {
    const colour = index % COLOURS;
    depots.set(`${route.start.lat},${route.start.lon}`, route.start);
    const stops = jobStops(route);
    if (!stops.length) return;
    const line = [[route.start.lat, route.start.lon], ...stops.map((s) => [s.lat, s.lon]), [route.end.lat, route.end.lon]];
    bounds.push(...line);
    window.L.polyline(line, { className: `route-line c${colour}`, weight: 3 })
      .bindTooltip(route.courier_name)
      .addTo(layers);
    stops.forEach((stop, position) => {
      const late = stop.violations.length ? ' violated' : '';
      const chosen = stop.job_id === selected ? ' selected' : '';
      const icon = window.L.divIcon({
        className: `stop-pin c${colour}${late}${chosen}`,
        html: `<span>${position + 1}</span>`,
        iconSize: [24, 24],
      });
      window.L.marker([stop.lat, stop.lon], { icon, title: `${route.courier_name} ${position + 1}: ${stop.claim_number || ''}`, keyboard: true })
        .on('click', () => select(stop.job_id))
        .addTo(layers);
    });
  });
  for (const depot of depots.values()) {
    bounds.push([depot.lat, depot.lon]);
    window.L.marker([depot.lat, depot.lon], {
      icon: window.L.divIcon({ className: 'depot-pin', iconSize: [18, 18] }),
      keyboard: false,
    }).addTo(layers);
  }
  for (const job of view.unassigned) {
    if (job.lat === null || job.lon === null) continue;
    window.L.marker([job.lat, job.lon], {
      icon: window.L.divIcon({ className: 'stop-pin unassigned', html: '<span>?</span>', iconSize: [24, 24] }),
      title: job.claim_number || '',
    }).on('click', () => select(job.job_id)).addTo(layers);
  }
  if (plan.status === 'published') drawPositions();
  if (bounds.length && !map.fitted) {
    map.fitBounds(bounds, { padding: [20, 20] });
    map.fitted = true;
  }
}

async function drawPositions() {
  const answer = await get('/api/v1/couriers/positions?limit=200').catch(() => null);
  if (!answer?.ok) return;
  const ours = new Set(view.routes.map((r) => r.courier_id));
  for (const position of answer.data.items) {
    if (!ours.has(position.courier_id)) continue;
    window.L.circleMarker([position.lat, position.lon], { radius: 7, className: 'courier-dot' }).addTo(layers);
  }
}

function renderTimeline() {
  const box = document.getElementById('timeline');
  box.replaceChildren();
  const used = view.routes.filter((r) => r.stops.length);
  if (!used.length) return;
  const from = Math.min(...used.map((r) => Date.parse(r.start_at)));
  const to = Math.max(...used.map((r) => Date.parse(r.end_at)));
  const label = 150;
  const width = Math.max(box.clientWidth || 1100, 600);
  const row = 30;
  const x = (iso) => label + ((Date.parse(iso) - from) / (to - from || 1)) * (width - label - 40);
  const chart = svg('svg', { width, height: used.length * row + 24, role: 'img', 'aria-label': document.getElementById('h-timeline').textContent });
  for (let hour = Math.ceil(from / 3600e3) * 3600e3; hour <= to; hour += 3600e3) {
    const iso = new Date(hour).toISOString();
    chart.append(svg('line', { x1: x(iso), x2: x(iso), y1: 0, y2: used.length * row, class: 'hour' }));
    const text = svg('text', { x: x(iso) + 2, y: used.length * row + 16, class: 'hour-label' });
    text.textContent = at(iso);
    chart.append(text);
  }
  used.forEach((route, rowIndex) => {
    const colour = view.routes.indexOf(route) % COLOURS;
    const y = rowIndex * row;
    const name = svg('text', { x: 4, y: y + 19, class: 'courier-label' });
    name.textContent = route.courier_name;
    chart.append(name);
    chart.append(svg('line', { x1: x(route.start_at), x2: x(route.end_at), y1: y + 15, y2: y + 15, class: `shift c${colour}` }));
    for (const stop of route.stops) {
      if (stop.kind === 'job') {
        for (const w of stop.windows) {
          chart.append(svg('rect', { x: x(w.start), y: y + 4, width: Math.max(1, x(w.end) - x(w.start)), height: 22, class: 'window' }));
        }
      }
    }
    for (const stop of route.stops) {
      if (!stop.arrival_at || !stop.departure_at) continue;
      if (stop.start_at && stop.start_at > stop.arrival_at) {
        // Waiting at the door for the window to open: idle time.
        chart.append(svg('rect', { x: x(stop.arrival_at), y: y + 9, width: Math.max(1, x(stop.start_at) - x(stop.arrival_at)), height: 12, class: 'idle' }));
      }
      const begin = stop.start_at || stop.arrival_at;
      const block = svg('rect', {
        x: x(begin), y: y + 6, width: Math.max(3, x(stop.departure_at) - x(begin)), height: 18,
        class: stop.kind === 'break' ? 'break' : `visit c${colour}${stop.violations.length ? ' violated' : ''}${stop.job_id === selected ? ' selected' : ''}`,
      });
      if (stop.kind === 'job') {
        block.dataset.job = stop.job_id;
        block.addEventListener('click', () => select(stop.job_id));
      }
      const title = svg('title');
      title.textContent = stop.kind === 'break' ? words.break : `${stop.claim_number || ''} ${at(stop.arrival_at)}–${at(stop.departure_at)}`;
      block.append(title);
      chart.append(block);
    }
  });
  box.append(chart);
}

function renderRoutes() {
  const box = document.getElementById('routes');
  box.replaceChildren();
  view.routes.forEach((route, index) => {
    const stops = jobStops(route);
    const section = el('section', { class: 'route', 'data-courier': route.courier_id });
    section.append(el('h3', {}, el('span', { class: `swatch c${index % COLOURS}`, 'aria-hidden': 'true' }),
      ` ${route.courier_name} · ${stops.length} ${words.stops} · ${route.distance_km.toFixed(1)} ${words.km}`));
    for (const v of route.violations) section.append(el('p', { class: 'violation', text: describe(v) }));
    const list = el('ol', { class: 'stops' });
    route.stops.forEach((stop) => {
      if (stop.kind === 'break') {
        list.append(el('li', { class: 'break-row', text: `${words.break} ${at(stop.start_at || stop.arrival_at)}–${at(stop.departure_at)}` }));
        return;
      }
      const windows = stop.windows.map((w) => `${at(w.start)}–${at(w.end)}`).join(', ');
      const button = el('button', {
        type: 'button', class: 'stop', 'data-job': stop.job_id,
        'aria-pressed': stop.job_id === selected ? 'true' : 'false',
      }, `${stop.claim_number || stop.job_id} · ${words.job_kinds[stop.job_kind] || stop.job_kind || ''} · ${words.window} ${windows} · ${words.eta} ${at(stop.arrival_at)}${stop.eta_at ? ` · ${words.now_expected} ${at(stop.eta_at)}` : ''}`);
      button.addEventListener('click', () => select(stop.job_id));
      const item = el('li', { 'data-job': stop.job_id }, button);
      if (stop.locked) item.append(el('span', { class: 'badge', text: words.locked }));
      if (stop.outcome) item.append(el('span', { class: `badge outcome ${stop.outcome}`, text: words.outcomes[stop.outcome] || stop.outcome }));
      if (stop.delayed) item.append(el('span', { class: 'badge late delayed', text: words.delayed }));
      for (const v of stop.violations) item.append(el('span', { class: 'badge late violation', text: describe(v) }));
      list.append(item);
    });
    section.append(list);
    box.append(section);
  });
}

function renderUnassigned() {
  const list = document.getElementById('unassigned');
  list.replaceChildren();
  if (!view.unassigned.length) list.append(el('li', { class: 'empty', text: words.none }));
  for (const job of view.unassigned) {
    const button = el('button', { type: 'button', class: 'stop', 'data-job': job.job_id },
      `${job.claim_number || job.job_id} · ${words.job_kinds[job.job_kind] || job.job_kind || ''}`);
    button.addEventListener('click', () => select(job.job_id));
    list.append(el('li', { 'data-job': job.job_id }, button, ' ',
      el('span', { class: 'reason', text: words.reasons[job.reason] || job.reason })));
  }
}

function select(jobId) {
  selected = jobId;
  renderMap();
  renderTimeline();
  for (const button of document.querySelectorAll('button.stop')) {
    button.setAttribute('aria-pressed', String(Number(button.dataset.job) === jobId));
  }
  renderPanel();
}

function renderPanel() {
  const found = selected === null ? null : findStop(selected);
  document.getElementById('stop-none').hidden = !!found;
  document.getElementById('stop-details').hidden = !found;
  if (!found) return;
  const { route, position, stop } = found;
  document.getElementById('stop-title').textContent =
    `${stop.claim_number || stop.job_id} · ${words.job_kinds[stop.job_kind] || stop.job_kind || ''} · ${stop.address || ''}`;
  document.getElementById('stop-when').textContent = route
    ? `${route.courier_name} #${position + 1} · ${words.window} ${stop.windows.map((w) => `${at(w.start)}–${at(w.end)}`).join(', ')} · ${words.eta} ${at(stop.arrival_at)}`
    : words.reasons[stop.reason] || stop.reason;
  const violations = document.getElementById('stop-violations');
  violations.replaceChildren(...(stop.violations || []).map((v) => el('li', { class: 'violation', text: describe(v) })));
  const couriers = document.getElementById('move-courier');
  couriers.replaceChildren(
    ...view.routes.map((r) => el('option', { value: r.courier_id, selected: route && r.courier_id === route.courier_id }, r.courier_name)),
  );
  document.getElementById('move-position').value = route ? position + 1 : 1;
  const editable = plan.status === 'draft';
  for (const id of ['move', 'lock', 'unassign']) document.getElementById(id).disabled = !editable;
  const lock = document.getElementById('lock');
  lock.hidden = !route;
  lock.textContent = stop.locked ? words.unlock : words.lock;
  document.getElementById('unassign').hidden = !route;
}

async function edit(body) {
  showError('');
  let answer;
  try {
    answer = await patch(`/api/v1/plans/${planId}`, { version: plan.version, ...body });
  } catch {
    return showError(words.network_error);
  }
  if (!answer.ok) {
    const fields = (answer.problem?.errors || []).map((e) => e.message).join('; ');
    showError(fields || answer.problem?.detail || '');
    if (answer.status === 409) await load();
    return;
  }
  plan = answer.data.plan;
  view = answer.data.routes;
  render();
}

document.getElementById('move').addEventListener('click', () => {
  const courier = Number(document.getElementById('move-courier').value);
  const position = Math.max(0, Number(document.getElementById('move-position').value) - 1);
  edit({ moves: [{ job_id: selected, courier_id: courier, position }] });
});
document.getElementById('unassign').addEventListener('click', () => {
  edit({ moves: [{ job_id: selected, courier_id: null }] });
});
document.getElementById('lock').addEventListener('click', () => {
  const found = findStop(selected);
  edit({ locks: [{ job_id: selected, locked: !found.stop.locked }] });
});

document.getElementById('reoptimize').addEventListener('click', async () => {
  showError('');
  let answer;
  try {
    // The same budget as the day's plan: a dispatcher waiting on a late day wants it soon.
    answer = await post(`/api/v1/plans/${planId}/reoptimize`, { time_limit_ms: plan.time_limit_ms });
  } catch {
    return showError(words.network_error);
  }
  if (!answer.ok) return showError(answer.problem?.detail || '');
  window.location.assign(`/app/plans/${answer.data.id}`);
});

const dialog = document.getElementById('publish-dialog');
document.getElementById('publish').addEventListener('click', () => {
  const problems = view.routes.flatMap((r) => [
    ...r.violations.map((v) => `${r.courier_name}: ${describe(v)}`),
    ...jobStops(r).flatMap((s) => s.violations.map((v) => `${r.courier_name}, ${s.claim_number || s.job_id}: ${describe(v)}`)),
  ]);
  document.getElementById('publish-clean').hidden = problems.length > 0;
  document.getElementById('publish-dirty').hidden = problems.length === 0;
  document.getElementById('publish-violations').replaceChildren(...problems.map((p) => el('li', { text: p })));
  dialog.dataset.violations = problems.length;
  dialog.showModal();
});
dialog.addEventListener('close', async () => {
  if (dialog.returnValue !== 'publish') return;
  showError('');
  let answer;
  try {
    answer = await post(`/api/v1/plans/${planId}/publish`, {
      version: plan.version,
      accept_violations: Number(dialog.dataset.violations) > 0,
    });
  } catch {
    return showError(words.network_error);
  }
  if (!answer.ok) {
    showError(answer.problem?.detail || '');
    return;
  }
  await load();
});

load();
// A published day moves on: what the couriers report shows up without a reload.
setInterval(() => {
  if (plan?.status === 'published' && !document.hidden) load();
}, 30000);
