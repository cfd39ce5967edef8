import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, sqlOne } from './sql';

// The one column of a task the user edits: its prompt, while the task is paused (PATCH …/input). The
// row is locked and the status read in the same transaction, so two edits cannot interleave and a
// resume committed meanwhile is seen.

/** The task's prompt and status, its row locked for a check-then-write; null when missing or deleted. */
export async function lockTaskPrompt(tx: EntityManager, taskId: string): Promise<{ prompt: string; status: string } | null> {
  const row = await sqlOne<{ prompt: string }>(tx, 'select prompt from tasks where id = ? and deleted_at is null for update', [taskId]);
  if (!row) return null;
  // status comes from the view, read after the lock so it reflects committed builds
  const view = await sqlOne<{ status: string }>(tx, 'select status from tasks_with_status where id = ?', [taskId]);
  return { prompt: row.prompt, status: view?.status ?? 'unknown' };
}

/** The user's edit of a paused task's prompt: the one column of a task the API writes. */
export async function setTaskPrompt(tx: EntityManager, taskId: string, prompt: string): Promise<void> {
  await sql(tx, 'update tasks set prompt = ? where id = ? and deleted_at is null', [prompt, taskId]);
}
