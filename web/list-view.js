// The task list: live through GET /tasks/watch, filtered by status on the server (q), searched by
// name in the page, and, for a site owner, switchable between their own tasks and everyone's. It
// follows the newest PAGE tasks (a live page: the server re-reads only those on a change); "Show
// more" widens the page.
import { append, h, replace } from './dom.js';
import { API, ApiError } from './api.js';
import { age, fullTime, taskTitle, templateLabel, STATUS_LABELS } from './format.js';
import { field } from './forms.js';
import { openLive, LIVE_LABELS } from './live.js';
import { errorBox, showError, statusBadge, takeFlash } from './ui.js';
import { renderStateLine } from './markdown.js';

const PAGE = 100;

// remembered while the page is open, so coming back from a task keeps the filters
const filters = { search: '', status: '', everyone: false, limit: PAGE };

function query() {
  const parts = [];
  if (!filters.everyone) parts.push('owner:me');
  if (filters.status) parts.push(`status:${filters.status}`);
  return parts.join(' ');
}

export function listView(main, ctx) {
  const heading = h('h1', { tabindex: '-1' }, 'Tasks');
  const search = h('input', { type: 'search', name: 'search', value: filters.search, autocomplete: 'off', placeholder: 'Name contains…' });
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    Object.entries(STATUS_LABELS).map(([value, label]) => h('option', { value, selected: value === filters.status }, label)),
  );
  const owner = ctx.isSiteOwner
    ? h(
        'select',
        { name: 'owner' },
        h('option', { value: 'me', selected: !filters.everyone }, 'My tasks'),
        h('option', { value: 'all', selected: filters.everyone }, 'All users'),
      )
    : null;
  const liveState = h('p', { class: 'live-state', role: 'status' }, LIVE_LABELS.connecting);
  const errors = errorBox();
  const results = h('div', { class: 'results' });
  let tasks = null;
  let total = 0;

  const flash = takeFlash();
  append(main, [
    h('div', { class: 'page-head' }, heading, h('a', { class: 'button primary', href: '#/new' }, 'New task')),
    flash ? h('p', { class: 'flash', role: 'status' }, flash) : null,
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter tasks', onsubmit: (e) => e.preventDefault() },
      field('Search by name', search),
      field('Status', status),
      owner ? field('Owner', owner) : null,
    ),
    liveState,
    errors,
    results,
  ]);
  heading.focus();

  function more() {
    if (total <= tasks.length) return null;
    const showMore = () => {
      filters.limit += PAGE;
      connect();
    };
    return h(
      'p',
      { class: 'more' },
      `Showing the ${tasks.length} newest of ${total} tasks. `,
      h('button', { type: 'button', class: 'button', onclick: showMore }, `Show ${Math.min(PAGE, total - tasks.length)} more`),
    );
  }

  function render() {
    if (tasks === null) return;
    const needle = filters.search.trim().toLowerCase();
    const shown = tasks.filter((t) => !needle || t.name.toLowerCase().includes(needle) || t.display_name.toLowerCase().includes(needle));
    if (shown.length === 0) {
      const empty = tasks.length === 0 && !filters.status
        ? h('p', {}, 'No tasks yet. ', h('a', { href: '#/new' }, 'Create your first task'), '.')
        : h('p', {}, 'No task matches these filters.');
      replace(results, h('div', { class: 'empty' }, empty, more()));
      return;
    }
    const everyone = filters.everyone;
    const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
    replace(
      results,
      h(
        'table',
        { class: 'tasks' },
        h('caption', { class: 'visually-hidden' }, `${shown.length} task${shown.length === 1 ? '' : 's'}`),
        h(
          'thead',
          {},
          h('tr', {}, ['Name', everyone ? 'Owner' : null, 'Status', 'Current state', 'Template', 'Age'].filter(Boolean).map((c) => h('th', { scope: 'col' }, c))),
        ),
        h(
          'tbody',
          {},
          shown.map((t) =>
            h(
              'tr',
              {},
              cell(
                'Name',
                h(
                  'div',
                  {},
                  h('a', { href: `#/tasks/${encodeURIComponent(t.owner_name)}/${t.id}` }, taskTitle(t)),
                  taskTitle(t) !== t.name ? h('div', { class: 'task-name' }, t.name) : null,
                ),
              ),
              everyone ? cell('Owner', t.owner_name) : null,
              cell('Status', statusBadge(t.status)),
              cell('Current state', t.current_state?.message ? renderStateLine(t.current_state.message) : '—'),
              cell('Template', templateLabel(t)),
              cell('Age', h('time', { datetime: t.created_at, title: fullTime(t.created_at) }, age(t.created_at))),
            ),
          ),
        ),
      ),
      more(),
    );
  }

  let close = null;
  function connect() {
    close?.();
    tasks = null;
    replace(results, h('p', { class: 'loading' }, 'Loading tasks…'));
    close = openLive(`${API}/tasks/watch?q=${encodeURIComponent(query())}&limit=${filters.limit}`, {
      tasks: (data) => {
        tasks = data.tasks;
        total = data.count;
        showError(errors, null);
        render();
      },
      problem: (body) => showError(errors, new ApiError(0, body)),
      onState: (state) => {
        liveState.textContent = LIVE_LABELS[state];
        liveState.dataset.state = state;
        // a refused stream usually means the session ended
        if (state === 'closed') ctx.checkSession();
      },
    });
  }

  search.addEventListener('input', () => {
    filters.search = search.value;
    render();
  });
  status.addEventListener('change', () => {
    filters.status = status.value;
    filters.limit = PAGE;
    connect();
  });
  owner?.addEventListener('change', () => {
    filters.everyone = owner.value === 'all';
    filters.limit = PAGE;
    connect();
  });
  connect();
  const ages = setInterval(render, 30_000);
  return () => {
    clearInterval(ages);
    close?.();
  };
}
