// The conversation pane: entries keyed by id (a streaming reply arrives again under the same id with
// more content), kept in id order, newest at the bottom, rendered through the escaping Markdown
// renderer. It follows new output only while the reader is already at the bottom.
import { h, replace } from './dom.js';
import { fullTime } from './format.js';
import { renderMarkdown } from './markdown.js';

export function createConversation() {
  const list = h('ol', { class: 'messages' });
  const empty = h('p', { class: 'empty' }, 'No messages yet.');
  const pane = h('div', { class: 'conversation', tabindex: '0', role: 'region', 'aria-label': 'Conversation' }, empty, list);
  const entries = new Map();

  function nearBottom() {
    return pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
  }

  function renderEntry(entry) {
    const who = entry.type === 'input' ? 'You' : 'Agent';
    return h(
      'li',
      { class: `message message-${entry.type}`, 'data-id': String(entry.id) },
      h('div', { class: 'message-meta' }, h('span', { class: 'message-who' }, who), ' ', h('time', { datetime: entry.time }, fullTime(entry.time))),
      h('div', { class: 'message-body' }, renderMarkdown(entry.content)),
    );
  }

  return {
    element: pane,
    /** Adds new entries and replaces changed ones; returns how many agent entries were new. */
    upsert(logs) {
      const follow = nearBottom();
      let newReplies = 0;
      for (const entry of logs) {
        const existing = entries.get(entry.id);
        const node = renderEntry(entry);
        if (existing) existing.node.replaceWith(node);
        else {
          if (entry.type === 'output') newReplies += 1;
          const after = [...entries.values()].filter((e) => e.entry.id < entry.id).sort((a, b) => b.entry.id - a.entry.id)[0];
          if (after) after.node.after(node);
          else list.prepend(node);
        }
        entries.set(entry.id, { entry, node });
      }
      empty.hidden = entries.size > 0;
      if (follow) pane.scrollTop = pane.scrollHeight;
      return newReplies;
    },
    clear() {
      entries.clear();
      replace(list);
      empty.hidden = false;
    },
  };
}
