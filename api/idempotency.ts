import type { Context } from 'hono';
import type { AppEnv } from './context';
import { ApiError } from './errors';

// Beyond Coder: an Idempotency-Key header makes task create, pause, resume and delete safe to retry
// after a timeout — the repeated request lands on what the first one did.

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const MAX_IDEMPOTENCY_KEY = 255;

export function idempotencyKey(c: Context<AppEnv>): string | null {
  const raw = c.req.header(IDEMPOTENCY_HEADER);
  if (raw === undefined) return null;
  const key = raw.trim();
  if (key === '' || key.length > MAX_IDEMPOTENCY_KEY) {
    throw new ApiError(400, `Invalid ${IDEMPOTENCY_HEADER} header.`, `It must be 1 to ${MAX_IDEMPOTENCY_KEY} characters.`);
  }
  return key;
}
