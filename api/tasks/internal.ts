import { ApiError, dependencyDown } from '../errors';

/**
 * Runs `fn`, turning an unexpected failure into Coder's 500 with `message` (detail = the error).
 * Request errors pass through, and an outage of the database or Temporal stays a 503 so clients
 * know to retry.
 */
export async function orInternal<T>(message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError || dependencyDown(err)) throw err;
    throw new ApiError(500, message, err instanceof Error ? err.message : String(err));
  }
}
