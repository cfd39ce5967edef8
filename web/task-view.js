// One task, live through GET /tasks/{user}/{task}/watch: status and start-up phase, the conversation,
// a send box, and pause / resume / delete enabled by what the task allows right now.
import { h, replace } from './dom.js';
import { api, API, ApiError, seg } from './api.js';
import { age, fullTime, taskTitle, templateLabel, STATE_LABELS, STATUS_LABELS } from './format.js';
import { field, form } from './forms.js';
import { openLive, LIVE_LABELS } from './live.js';
import { announce, busy, errorBox, setFlash, showError, statusBadge } from './ui.js';
import { createConversation } from './conversation.js';
import { renderStateLine } from './markdown.js';
import { createBuildLog } from './build-log.js';

// workspace build states during which the API refuses another build (409)
const BUILDING = new Set(['pending', 'starting', 'stopping', 'deleting', 'canceling']);

/** What the task allows now, from the same facts the API checks. */
export function allowed(task) {
  const ws = task.workspace_status;
  const building = BUILDING.has(ws);
  return {
    pause: ws === 'running',
    resume: !building && ws !== 'running' && ws !== 'deleted',
    del: !building,
    send: task.status === 'active' && task.current_state?.state !== 'working',
    // beyond Coder: the server's send queue takes input while the agent works, or the task is paused
    queue: task.status === 'paused' || (task.status === 'active' && task.current_state?.state === 'working'),
  };
}

function banner(task) {
  switch (task.status) {
    case 'paused':
      return h(
        'div',
        { class: 'banner banner-paused' },
        h('p', {}, h('strong', {}, 'Paused.'), ' The workspace is stopped. Below is the conversation saved when it stopped; resume the task to continue it.'),
      );
    case 'pending':
    case 'initializing':
      return h(
        'div',
        { class: 'banner banner-starting' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        h('p', {}, h('strong', {}, 'Starting: '), task.current_state?.message ? renderStateLine(task.current_state.message) : 'Waiting for the workspace'),
      );
    case 'error':
      return h('div', { class: 'banner banner-error' }, h('p', {}, h('strong', {}, 'Something went wrong. '), 'The workspace failed or the agent is unhealthy. You can resume (rebuild) or delete the task.'));
    case 'unknown':
      return h('div', { class: 'banner banner-starting' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, h('strong', {}, 'Changing: '), `the workspace is ${task.workspace_status ?? 'changing'}.`));
    default:
      return null;
  }
}

export function taskView(main, ctx, [owner, ref]) {
  const watchUrl = `${API}/tasks/${seg(owner)}/${seg(ref)}/watch`;
  const title = h('h1', { tabindex: '-1' }, 'Task');
  const crumb = h('span', { 'aria-current': 'page' }, ref);
  const conversationHeading = h('h2', { id: 'conversation-heading' }, 'Conversation');
  const meta = h('p', { class: 'task-meta' });
  const badge = h('span', { class: 'task-status' });
  const state = h('p', { class: 'task-state' });
  const liveState = h('p', { class: 'live-state', role: 'status' }, LIVE_LABELS.connecting);
  const banners = h('div', { class: 'banners' });
  const errors = errorBox();
  const conversation = createConversation();
  const buildLog = createBuildLog();
  const pause = h('button', { type: 'button', disabled: true }, 'Pause');
  const resume = h('button', { type: 'button', disabled: true }, 'Resume');
  const del = h('button', { type: 'button', class: 'danger', disabled: true }, 'Delete');
  const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm deletion' });
  const message = h('textarea', { name: 'message', rows: '3', disabled: true });
  // Ctrl+Enter (⌘+Enter) sends, as in most chat boxes; plain Enter keeps making new lines
  message.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !send.disabled) {
      e.preventDefault();
      message.form?.requestSubmit();
    }
  });
  const send = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Send');
  const sendHint = h('p', { class: 'hint', 'aria-live': 'polite' });
  const queueList = h('ul', { class: 'queued-inputs', 'aria-label': 'Queued messages' });
  let task = null;
  let gone = false;
  // after a pause/resume request, the buttons wait for the task to show the new build
  let awaitingBuildAfter = null;

  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Tasks'), ' / ', crumb),
    h('div', { class: 'task-head' }, h('div', {}, title, meta), h('div', { class: 'task-status-box' }, badge, state)),
    banners,
    h('div', { class: 'controls', role: 'group', 'aria-label': 'Task actions' }, pause, resume, del),
    confirmBox,
    errors,
    h('section', { class: 'conversation-section', 'aria-labelledby': 'conversation-heading' }, conversationHeading, conversation.element),
    form(
      { class: 'send-box', 'aria-label': 'Send a message' },
      () => sendMessage(),
      field('Message to the agent', message),
      sendHint,
      queueList,
      h('div', { class: 'actions' }, send),
    ),
    buildLog.element,
    liveState,
  );
  title.focus();

  function render() {
    if (!task) return;
    document.title = `${taskTitle(task)} · taskd`;
    replace(title, taskTitle(task));
    replace(crumb, task.name);
    replace(conversationHeading, task.status === 'paused' ? 'Saved conversation' : 'Conversation');
    replace(
      meta,
      h('span', { class: 'task-name' }, task.name),
      ` · ${task.owner_name} · ${templateLabel(task)} · created `,
      h('time', { datetime: task.created_at, title: fullTime(task.created_at) }, age(task.created_at)),
    );
    replace(badge, statusBadge(task.status));
    const cs = task.current_state;
    replace(state, cs && task.status === 'active' ? [h('strong', {}, STATE_LABELS[cs.state] ?? cs.state), cs.message ? [': ', renderStateLine(cs.message)] : ''] : '');
    replace(banners, banner(task));
    void buildLog.show(task);
    if (awaitingBuildAfter !== null && (task.workspace_build_number ?? 0) > awaitingBuildAfter) awaitingBuildAfter = null;
    const can = gone ? { pause: false, resume: false, del: false, send: false } : allowed(task);
    const waiting = awaitingBuildAfter !== null;
    pause.disabled = waiting || !can.pause;
    resume.disabled = waiting || !can.resume;
    del.disabled = waiting || !can.del;
    message.disabled = gone || !(can.send || can.queue);
    send.disabled = !(can.send || can.queue);
    replace(send, can.send ? 'Send' : 'Queue');
    sendHint.textContent = can.send
      ? ''
      : can.queue
        ? task.status === 'paused'
          ? 'The task is paused: the message is queued and the task resumed; it is delivered once the agent is ready.'
          : 'The agent is working: the message is queued and delivered when it is next idle.'
        : 'You can send messages while the task is active.';
    renderQueue(gone ? [] : task.queued_inputs ?? []);
  }

  /** The send queue as the watch stream sends it with the task (it is sent again whenever the queue changes). */
  function renderQueue(queued) {
    replace(
      queueList,
      queued.map((q) => {
        const cancel = h('button', { type: 'button', disabled: q.state !== 'queued' }, 'Cancel');
        cancel.addEventListener('click', () =>
          busy(cancel, errors, async () => {
            await api('DELETE', `/tasks/${seg(task.owner_name)}/${task.id}/queued-inputs/${q.id}`);
            announce('Queued message cancelled.');
          }),
        );
        return h('li', {}, h('span', { class: 'queued-state' }, q.state === 'queued' ? 'Queued' : 'Delivering'), ' ', h('span', { class: 'queued-text' }, q.input), ' ', cancel);
      }),
    );
  }

  async function action(button, path, verb) {
    await busy(button, errors, async () => {
      const before = task.workspace_build_number ?? 0;
      await api('POST', `/tasks/${seg(task.owner_name)}/${task.id}/${path}`);
      awaitingBuildAfter = before;
      announce(`${verb} requested.`);
    }, render);
  }
  pause.addEventListener('click', () => action(pause, 'pause', 'Pause'));
  resume.addEventListener('click', () => action(resume, 'resume', 'Resume'));

  del.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'danger' }, 'Delete task');
    const no = h('button', { type: 'button' }, 'Keep it');
    replace(confirmBox, h('p', {}, 'Delete this task and its workspace? This cannot be undone.'), h('div', { class: 'actions' }, yes, no));
    confirmBox.hidden = false;
    no.addEventListener('click', () => {
      confirmBox.hidden = true;
      del.focus();
    });
    yes.addEventListener('click', () =>
      busy(yes, errors, async () => {
        await api('DELETE', `/tasks/${seg(task.owner_name)}/${task.id}`);
        setFlash(`Task ${task.name} was deleted.`);
        ctx.navigate('#/');
      }, () => (yes.disabled = false)),
    );
    yes.focus();
  });

  async function sendMessage() {
    if (!message.value.trim()) {
      showError(errors, new ApiError(400, { message: 'Write a message first.' }));
      message.focus();
      return;
    }
    const queue = !allowed(task).send;
    await busy(send, errors, async () => {
      const query = queue ? `?queue=true${task.status === 'paused' ? '&resume=true' : ''}` : '';
      await api('POST', `/tasks/${seg(task.owner_name)}/${task.id}/send${query}`, { input: message.value });
      message.value = '';
      if (queue) announce('Message queued.');
    }, render);
  }

  const close = openLive(watchUrl, {
    task: (data) => {
      const before = task?.status;
      task = data;
      if (before && before !== task.status) announce(`Task is now ${STATUS_LABELS[task.status] ?? task.status}.`);
      render();
    },
    logs: (data) => {
      const replies = conversation.upsert(data.logs);
      if (replies > 0 && task) announce(replies === 1 ? 'New reply from the agent.' : `${replies} new replies from the agent.`);
    },
    deleted: () => {
      gone = true;
      close();
      replace(banners, h('div', { class: 'banner banner-error' }, h('p', {}, h('strong', {}, 'This task was deleted. '), h('a', { href: '#/' }, 'Back to the task list'))));
      render();
      liveState.textContent = LIVE_LABELS.closed;
    },
    problem: (body) => showError(errors, new ApiError(0, body)),
    onState: async (s) => {
      liveState.textContent = LIVE_LABELS[s];
      liveState.dataset.state = s;
      if (s === 'closed' && !gone) {
        await ctx.checkSession();
        if (!task) showError(errors, new ApiError(404, { message: 'This task does not exist, or you do not have access to it.' }));
      }
    },
  });
  const ages = setInterval(render, 30_000);
  return () => {
    clearInterval(ages);
    close();
    buildLog.close();
    document.title = 'taskd';
  };
}
