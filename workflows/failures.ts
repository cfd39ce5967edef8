import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

// Failures as the task workflow hands them on: an update must fail with the business type its
// activity raised (NameTaken, BuildActive …), not with the ActivityFailure wrapping it, because that
// type is what the API maps to an HTTP answer.

/** The business failure inside an activity failure, rethrown so an update fails with its type. */
export function asBusinessFailure(err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ type: cause.type ?? 'Error', message: cause.message, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: 'InternalError', message: (err as Error)?.message ?? String(err), nonRetryable: true });
}

/** The innermost message of an activity failure: what a failed build records as its job error. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return (e as Error)?.message || 'The activity failed without a message.';
}
