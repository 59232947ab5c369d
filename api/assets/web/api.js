// Calls to the API from a console page: the session cookie goes along by itself, the
// page's CSRF token in a header (the server refuses a state-changing call without it).
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

/** POSTs `body` as JSON; resolves to `{ ok, status, data, problem }`. */
export function post(path, body) {
  return send('POST', path, body);
}

/** PATCHes `body` as JSON; resolves like `post`. */
export function patch(path, body) {
  return send('PATCH', path, body);
}

/** GETs JSON; resolves like `post`. */
export function get(path) {
  return send('GET', path);
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRF-Token'] = csrf;
  }
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  let problem = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) problem = data || { detail: response.statusText };
  return { ok: response.ok, status: response.status, data: response.ok ? data : null, problem };
}

/** Shows a problem's field errors next to their fields (`[data-error-for]` in `root`),
 * the rest (or the problem's detail) in the `general` line. */
export function showProblem(root, problem, general = root.querySelector('[data-error-for=""]')) {
  const fields = problem?.errors || [];
  const unplaced = [];
  for (const { field, message } of fields) {
    const slot = root.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
      slot.closest('fieldset, form')?.querySelector(`[aria-describedby="${slot.id}"]`)?.setAttribute('aria-invalid', 'true');
    } else {
      unplaced.push(`${field}: ${message}`);
    }
  }
  if (general && (unplaced.length || !fields.length)) {
    general.textContent = unplaced.length ? unplaced.join('; ') : (problem?.detail || '');
    general.hidden = false;
  }
}

export function clearErrors(root) {
  for (const slot of root.querySelectorAll('[data-error-for]')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const field of root.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
}
