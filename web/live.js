// EventSource wrapper for the watch endpoints. The browser sends the session cookie and reconnects
// by itself after a network drop (each reconnect starts with a full snapshot, so nothing is missed);
// a refusal (signed out, task gone) closes the source for good, and the view decides what to do.

/**
 * handlers: { [eventName]: (data) => void } for the server's events, plus
 *   onState(state): 'live' | 'reconnecting' | 'closed'
 */
export function openLive(url, handlers) {
  const source = new EventSource(url);
  for (const [name, fn] of Object.entries(handlers)) {
    if (name === 'onState') continue;
    source.addEventListener(name, (e) => {
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      fn(data);
    });
  }
  source.addEventListener('open', () => handlers.onState?.('live'));
  source.addEventListener('error', () => {
    handlers.onState?.(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  });
  return () => source.close();
}

export const LIVE_LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost, reconnecting…',
  closed: 'Live updates stopped.',
};
