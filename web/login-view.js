// Signing in, and creating the first user of a fresh server. The login route sets the HttpOnly
// session cookie itself, so no token is ever handled by page scripts.
import { h } from './dom.js';
import { api } from './api.js';
import { field, form } from './forms.js';
import { busy, errorBox } from './ui.js';

function page(main, title, intro, body) {
  const heading = h('h1', { tabindex: '-1' }, title);
  main.append(h('section', { class: 'card narrow' }, heading, intro ? h('p', { class: 'intro' }, intro) : null, body));
  heading.focus();
}

export function loginView(main, ctx) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const errors = errorBox();
  const f = form({ 'aria-label': 'Sign in' }, () =>
    busy(submit, errors, async () => {
      await api('POST', '/users/login', { email: email.value.trim(), password: password.value });
      await ctx.sessionChanged();
    }),
    field('Email', email),
    field('Password', password),
    errors,
    h('div', { class: 'actions' }, submit),
  );
  page(main, 'Sign in to taskd', null, f);
}

export function setupView(main, ctx) {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, maxlength: '32' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'name' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create account');
  const errors = errorBox();
  const f = form({ 'aria-label': 'Create the first user' }, () =>
    busy(submit, errors, async () => {
      const credentials = { email: email.value.trim(), password: password.value };
      await api('POST', '/users/first', { ...credentials, username: username.value.trim(), name: name.value.trim() });
      await api('POST', '/users/login', credentials);
      await ctx.sessionChanged();
    }),
    field('Username', username, 'Letters, digits and single hyphens.'),
    field('Email', email),
    field('Full name (optional)', name),
    field('Password', password, 'At least 8 characters.'),
    errors,
    h('div', { class: 'actions' }, submit),
  );
  page(main, 'Welcome to taskd', 'This server has no users yet. Create the first one: it becomes the site owner.', f);
}
