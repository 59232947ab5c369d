// A claim's card: moves, the decision and comments go to the API; its validation errors
// appear next to the fields; success reloads the card.
import { post, showProblem, clearErrors } from './api.js';

const actions = document.querySelector('section.actions');
const claim = actions.dataset.claim;
const version = Number(actions.dataset.version);
const general = actions.querySelector('[data-error-for=""]');

async function send(root, path, body) {
  clearErrors(actions);
  let answer;
  try {
    answer = await post(`/api/v1/claims/${claim}/${path}`, body);
  } catch {
    general.textContent = actions.dataset.networkError;
    general.hidden = false;
    return;
  }
  if (answer.ok) {
    window.location.reload();
  } else {
    showProblem(root, answer.problem, general);
  }
}

for (const button of actions.querySelectorAll('button[data-transition]')) {
  button.addEventListener('click', () => {
    const note = document.getElementById('move-note')?.value.trim();
    send(actions, 'transition', { to: button.dataset.transition, note: note || null, version });
  });
}

const decision = document.getElementById('decision-form');
if (decision) {
  decision.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (name) => decision.elements[name]?.value.trim() || null;
    const kind = value('decision');
    const body = { decision: kind, version };
    if (kind === 'reject') {
      body.reason_code = value('reason_code');
      body.reason = value('reason');
    } else {
      body.logistics = value('logistics');
      // The workshop goes with a contractor repair, the supplier with a supplier's
      // replacement; the API names the partner if it is missing.
      const partner = { contractor: 'partner_id', supplier: 'supplier_id' }[body.logistics];
      if (partner && value(partner)) {
        body.partner_id = Number(value(partner));
      }
      if (value('reason')) body.reason = value('reason');
    }
    const amount = value('refund_amount');
    if (amount !== null) {
      // Whole cents from what was typed ("149.90" or "149,90"); nonsense goes to the API as
      // it is, so that its validation speaks for the field.
      const number = Number(amount.replace(',', '.'));
      body.refund_amount_cents = Number.isFinite(number) ? Math.round(number * 100) : amount;
    }
    const override = value('override_reason');
    if (override) body.override = { reason: override };
    send(decision, 'decision', body);
  });
}

const comment = document.getElementById('comment-form');
comment.addEventListener('submit', (event) => {
  event.preventDefault();
  send(comment, 'comments', { text: comment.elements.text.value });
});
