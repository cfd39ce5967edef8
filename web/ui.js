// Pieces the views share: error messages in words, status badges, announcements for screen readers.
import { h, replace } from './dom.js';
import { describeError } from './api.js';
import { STATUS_LABELS } from './format.js';

/** Shows `err` (or clears the box when err is null) as a sentence, its detail and any field problems. */
export function showError(box, err) {
  if (!err) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const { message, detail, validations } = describeError(err);
  replace(
    box,
    h('p', { class: 'error-message' }, message),
    detail ? h('p', { class: 'error-detail' }, detail) : null,
    validations.length > 0 ? h('ul', {}, validations.map((v) => h('li', {}, `${v.field}: ${v.detail}`))) : null,
  );
  box.hidden = false;
}

export function errorBox() {
  return h('div', { class: 'error-box', role: 'alert', hidden: true });
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, STATUS_LABELS[status] ?? status);
}

/** Reads a short message out to screen-reader users (polite: after what they are hearing). */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // a fresh text node after a tick is what makes assistive tech notice a repeated message
  setTimeout(() => (region.textContent = text), 50);
}

/**
 * Runs `fn` with the button disabled and the error box cleared, then filled if it fails. `restore`
 * decides the button's state afterwards (default: enabled again).
 */
export async function busy(button, box, fn, restore = () => (button.disabled = false)) {
  button.disabled = true;
  showError(box, null);
  try {
    return await fn();
  } catch (err) {
    showError(box, err);
    return undefined;
  } finally {
    restore();
  }
}

// A one-time message carried across a navigation (e.g. "Task deleted" shown on the list).
let flash = '';
export function setFlash(text) {
  flash = text;
}
export function takeFlash() {
  const text = flash;
  flash = '';
  return text;
}
