// The task page's build log: what the workspace's latest build did, line by line, from
// GET /workspacebuilds/{id}/logs. While the build runs it is followed over a WebSocket (the same
// stream Coder's CLI reads), so each step shows as it happens; a finished build is read once.
import { h, replace } from './dom.js';
import { api, API, seg } from './api.js';

const RUNNING = new Set(['pending', 'running', 'canceling']);

export function createBuildLog() {
  const lines = h('ol', { class: 'build-log-lines', role: 'log', 'aria-live': 'polite', 'aria-label': 'Build log lines' });
  const summaryNote = h('span', { class: 'build-log-note' });
  const element = h('details', { class: 'build-log' }, h('summary', {}, 'Build log ', summaryNote), lines);
  let shownBuild = null;
  let socket = null;
  let lastId = 0;

  function add(line) {
    if (line.id <= lastId) return;
    lastId = line.id;
    lines.append(
      h(
        'li',
        { class: `build-log-line level-${line.log_level}` },
        h('time', { datetime: line.created_at }, new Date(line.created_at).toLocaleTimeString()),
        ' ',
        h('span', { class: 'build-log-stage' }, line.stage),
        ' ',
        line.output,
      ),
    );
  }

  function stopFollowing() {
    if (socket) socket.close();
    socket = null;
  }

  async function show(task) {
    if (!task?.workspace_id) return;
    const key = `${task.workspace_id}#${task.workspace_build_number ?? 0}`;
    if (key === shownBuild) return;
    shownBuild = key;
    stopFollowing();
    let build;
    try {
      build = (await api('GET', `/workspaces/${seg(task.workspace_id)}`)).latest_build;
    } catch {
      return; // the task view shows what went wrong with the task itself
    }
    if (!build || key !== shownBuild) return;
    lastId = 0;
    replace(lines);
    replace(summaryNote, `· build #${build.build_number} (${build.transition}), ${build.job.status}`);
    if (RUNNING.has(build.job.status)) {
      const url = new URL(`${API}/workspacebuilds/${seg(build.id)}/logs?follow`, location.href);
      url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
      socket = new WebSocket(url);
      socket.addEventListener('message', (e) => add(JSON.parse(e.data)));
      socket.addEventListener('close', () => {
        if (key === shownBuild) replace(summaryNote, `· build #${build.build_number} (${build.transition}), ended`);
      });
      return;
    }
    try {
      for (const line of await api('GET', `/workspacebuilds/${seg(build.id)}/logs`)) add(line);
    } catch {
      replace(summaryNote, '· the log could not be read');
    }
  }

  return { element, show, close: stopFollowing };
}
