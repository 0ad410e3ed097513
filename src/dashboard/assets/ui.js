// What every page shares: the confirmation every action goes through, the note that says what
// happened, and an error box.
import { h, fill } from './dom.js';

/**
 * Shows `question` in a modal dialog (not window.confirm, which a page can be made to spam and
 * which some browsers suppress); resolves true when the operator confirms.
 */
export function confirmAction(question, confirmLabel) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: 'danger', 'data-confirm': 'yes' }, confirmLabel);
    const no = h('button', { type: 'button', 'data-confirm': 'no' }, 'Cancel');
    const dialog = h('dialog', { class: 'confirm', 'aria-label': 'Confirm' }, h('p', {}, question), h('div', { class: 'actions' }, no, yes));
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/** A short note at the bottom of the page: what was done, or why not. */
export function notify(message, kind = 'ok') {
  const toast = document.getElementById('toast');
  fill(toast, h('p', { class: kind }, message));
}

export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
}

/**
 * A button that asks first, then runs `action` (which returns the message to show). Not drawn at
 * all on a read-only dashboard.
 */
export function actionButton(label, question, action, props = {}) {
  const button = h('button', { type: 'button', ...props }, label);
  button.addEventListener('click', async () => {
    const asked = typeof question === 'function' ? await question() : question;
    if (asked === null) return;
    if (!(await confirmAction(asked, label))) return;
    button.disabled = true;
    try {
      notify(await action());
    } catch (error) {
      notify(error instanceof Error ? error.message : String(error), 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
