import { AgentApiClient, AgentApiError, type AgentMessage } from '../agent/agentapi-client';
import { fork, inTransaction } from '../db/sql';
import { countOpenQueuedInputs, deliveryTarget, lockNextQueuedInput, markDelivered, markDelivering } from '../db/queued-inputs';
import type { QueuedDelivery } from '../workflows/contracts';
import type { ActivityDeps } from './deps';

// The send queue's delivery (README, "Queued input"): one input per call, the oldest, and only while
// the task is active and its AI app is stable. Exactly once across crashes: the row is marked
// `delivering` with the app's newest message id *before* the app is called; a later attempt that
// finds it so looks for the input among the app's messages after that id instead of sending again.

/** How long after a delivery to wait for the app to take it up (status no longer stable, or a reply). */
const TAKE_UP_MS = 5_000;
const POLL_MS = 100;
const APP_TIMEOUT_MS = 5_000;

const newestId = (messages: AgentMessage[]) => messages.reduce((max, m) => Math.max(max, m.id), -1);

/** The input is among the user messages that came after `lastMessageId`. */
function wentIn(messages: AgentMessage[], lastMessageId: number, input: string): boolean {
  return messages.some((m) => m.id > lastMessageId && m.role === 'user' && m.content.trim() === input.trim());
}

async function tookUp(client: AgentApiClient, after: number): Promise<void> {
  const until = Date.now() + TAKE_UP_MS;
  while (Date.now() < until) {
    const [status, messages] = await Promise.all([client.getStatus(), client.getMessages()]);
    if (status.status !== 'stable' || messages.some((m) => m.id > after && m.role === 'agent')) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function createQueuedInputActivities(deps: ActivityDeps) {
  return {
    /** Delivers the task's oldest queued input if its app is stable now; says what happened and how many are left. */
    async deliverQueuedInput(input: { taskId: string }): Promise<QueuedDelivery> {
      try {
        return await deliverOne(input.taskId);
      } catch (err) {
        // an app that cannot be reached or refuses is tried again later, like a busy one (a row left
        // `delivering` is checked against the conversation then); anything else (the database) is retried
        if (!(err instanceof AgentApiError)) throw err;
        deps.log.info({ taskId: input.taskId, err: err.message }, 'queued input not delivered: the app did not answer');
        return { outcome: 'busy', remaining: await countOpenQueuedInputs(fork(deps.orm), input.taskId) };
      }
    },
  };

  async function deliverOne(taskId: string): Promise<QueuedDelivery> {
    const em = fork(deps.orm);
    const target = await deliveryTarget(em, taskId);
    if (!target || target.status !== 'active' || !target.appUrl) {
      return { outcome: 'inactive', remaining: target ? await countOpenQueuedInputs(em, taskId) : 0 };
    }
    const client = new AgentApiClient(target.appUrl, { timeoutMs: APP_TIMEOUT_MS });
    const claimed = await inTransaction(deps.orm, async (tx) => {
      const next = await lockNextQueuedInput(tx, taskId);
      if (!next) return null;
      const messages = await client.getMessages();
      if (next.state === 'delivering' && next.lastMessageId !== null && wentIn(messages, next.lastMessageId, next.input)) {
        return { ...next, alreadyIn: true, after: next.lastMessageId };
      }
      if ((await client.getStatus()).status !== 'stable') return 'busy' as const;
      const after = newestId(messages);
      await markDelivering(tx, next.id, after);
      return { ...next, alreadyIn: false, after };
    });
    if (claimed === null) return { outcome: 'empty', remaining: 0 };
    if (claimed === 'busy') return { outcome: 'busy', remaining: await countOpenQueuedInputs(em, taskId) };
    if (!claimed.alreadyIn) {
      await client.postMessage(claimed.input, 'user');
      await tookUp(client, claimed.after);
    }
    await markDelivered(em, claimed.id);
    deps.log.info({ taskId, queuedInputId: claimed.id, recovered: claimed.alreadyIn }, 'queued input delivered');
    return { outcome: 'delivered', remaining: await countOpenQueuedInputs(em, taskId) };
  }
}
