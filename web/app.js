// The dashboard's entry: finds out who is signed in, keeps the header in step, and routes between the
// views on the URL's hash (#/, #/new, #/tasks/<owner>/<task>, #/login, #/setup), so the server only
// ever serves "/". Each view returns a cleanup function that closes its live streams.
import { h, replace } from './dom.js';
import { api, ApiError, request } from './api.js';
import { loginView, setupView } from './login-view.js';
import { listView } from './list-view.js';
import { createView } from './create-view.js';
import { taskView } from './task-view.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

const session = { user: null, firstUserCreated: true };
let cleanup = null;

const ROUTES = [
  [/^#\/login$/, loginView, false],
  [/^#\/setup$/, setupView, false],
  [/^#\/new$/, createView, true],
  [/^#\/tasks\/([^/]+)\/([^/]+)$/, taskView, true],
  [/^(?:#\/?)?$/, listView, true],
];

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function loadSession() {
  const probe = await request('GET', '/web/session').catch(() => null);
  session.firstUserCreated = probe ? probe.first_user_created : true;
  session.user = null;
  if (probe?.signed_in) {
    try {
      session.user = await api('GET', '/users/me');
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
  }
  renderNav();
}

function renderNav() {
  if (!session.user) {
    replace(nav);
    return;
  }
  const logout = h('button', { type: 'button', class: 'link-button', onclick: signOut }, 'Sign out');
  replace(nav, h('span', { class: 'whoami' }, 'Signed in as ', h('strong', {}, session.user.username)), logout);
}

async function signOut() {
  try {
    await api('POST', '/users/logout');
  } finally {
    session.user = null;
    renderNav();
    navigate('#/login');
  }
}

const isSiteOwner = () => Boolean(session.user?.roles?.some((r) => r.name === 'owner'));

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  const hash = location.hash;
  const match = ROUTES.map(([re, view, needsUser]) => [re.exec(hash), view, needsUser]).find(([m]) => m);
  if (!match) {
    navigate('#/');
    return;
  }
  const [m, view, needsUser] = match;
  if (needsUser && !session.user) {
    navigate(session.firstUserCreated ? '#/login' : '#/setup');
    return;
  }
  if (!needsUser && session.user) {
    navigate('#/');
    return;
  }
  replace(main);
  const ctx = {
    user: session.user,
    isSiteOwner: isSiteOwner(),
    navigate,
    /** after signing in */
    async sessionChanged() {
      await loadSession();
      navigate(session.user ? '#/' : '#/login');
    },
    /** when a live stream is refused: back to the sign-in page if the session is over */
    async checkSession() {
      await loadSession();
      if (!session.user) navigate('#/login');
    },
  };
  cleanup = view(main, ctx, m.slice(1).map(decodeURIComponent)) || null;
}

window.addEventListener('hashchange', route);
loadSession().then(route, (err) => {
  replace(main, h('div', { class: 'error-box', role: 'alert' }, h('p', {}, 'The dashboard could not start: ', err.message)));
});
