// The plans of a day: start a run, watch its progress and best cost, then open the plan.
import { post, get, showProblem, clearErrors } from './api.js';

const form = document.getElementById('run-form');
const progress = document.getElementById('run-progress');
const bar = document.getElementById('run-bar');
const cost = document.getElementById('run-cost');
const unassigned = document.getElementById('run-unassigned');
const general = form.querySelector('[data-error-for=""]');

const pause = (ms) => new Promise((done) => setTimeout(done, ms));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const seconds = Number(form.elements.time_limit.value);
  const body = { date: form.dataset.date };
  if (form.elements.depot_id.value) body.depot_id = Number(form.elements.depot_id.value);
  body.objective = form.elements.objective.value;
  // Whatever was typed goes to the API, whose validation names the field.
  body.time_limit_ms = Number.isFinite(seconds) ? Math.round(seconds * 1000) : -1;
  let answer;
  try {
    answer = await post('/api/v1/plans', body);
  } catch {
    general.textContent = form.dataset.networkError;
    general.hidden = false;
    return;
  }
  if (!answer.ok) {
    showProblem(form, answer.problem, general);
    return;
  }
  form.querySelector('button[type=submit]').disabled = true;
  progress.hidden = false;
  const id = answer.data.id;
  for (;;) {
    await pause(250);
    let plan;
    try {
      plan = (await get(`/api/v1/plans/${id}`)).data;
    } catch {
      continue;
    }
    if (!plan) continue;
    const last = plan.progress[plan.progress.length - 1];
    if (last) {
      bar.value = last.fraction;
      cost.textContent = last.cost.toFixed(1);
      unassigned.textContent = last.unassigned;
    }
    if (!['queued', 'running'].includes(plan.status)) {
      bar.value = 1;
      window.location.assign(`/app/plans/${id}`);
      return;
    }
  }
});
