// Labelled form controls: every input has a visible <label>, hints are tied to their input with
// aria-describedby, so the forms read correctly with a screen reader and work from the keyboard.
import { h, uid } from './dom.js';

export function field(label, control, hint) {
  const id = uid('f');
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/** A form whose submit runs `onSubmit` instead of navigating. */
export function form(attrs, onSubmit, ...children) {
  return h(
    'form',
    {
      ...attrs,
      onsubmit: (e) => {
        e.preventDefault();
        onSubmit(e);
      },
    },
    ...children,
  );
}
