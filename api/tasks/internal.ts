import { ApiError, dependencyDown, INTERNAL_DETAIL, withCause } from '../errors';

/**
 * Runs `fn`, turning an unexpected failure into Coder's 500 with `message` (the cause is logged).
 * Request errors pass through, and an outage of the database or Temporal stays a 503 so clients
 * know to retry.
 */
export async function orInternal<T>(message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError || dependencyDown(err)) throw err;
    // the raw database error names tables and carries the query's parameters: log it, never send it
    throw withCause(new ApiError(500, message, INTERNAL_DETAIL), err);
  }
}
