import type { Context } from 'hono';
import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TaskFailure } from '../workflows/contracts';

// One error type and one mapping to HTTP: every failure leaves the API in Coder's envelope
// {message, detail?, validations?}.

export interface Validation {
  field: string;
  detail: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly detail?: string,
    readonly validations?: Validation[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body() {
    return {
      message: this.message,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(this.validations && this.validations.length > 0 ? { validations: this.validations } : {}),
    };
  }
}

/** The detail of a 500 whose cause is only in the server log (found there by the X-Request-Id). */
export const INTERNAL_DETAIL = 'The cause is in the server log under this request id.';

export function withCause<E extends Error>(error: E, cause: unknown): E {
  error.cause = cause;
  return error;
}

export const NOT_FOUND_MESSAGE = 'Resource not found or you do not have access to this resource';
export const notFound = () => new ApiError(404, NOT_FOUND_MESSAGE);
export const unauthorized = (detail?: string) =>
  new ApiError(401, 'You are signed out or your session has expired. Please sign in again to continue.', detail);
export const badRequest = (message: string, detail?: string, validations?: Validation[]) =>
  new ApiError(400, message, detail, validations);
export const conflict = (message: string, detail?: string) => new ApiError(409, message, detail);
export const unavailable = (part: string, detail?: string) =>
  new ApiError(503, `${part} is unavailable. Try again shortly.`, detail);

// gRPC statuses that mean "Temporal cannot take this right now": unavailable, deadline exceeded,
// resource exhausted, aborted. Update-with-start rethrows the raw gRPC error rather than a
// ServiceError, so these are recognised by their status code.
const TRANSIENT_GRPC = new Set([14, 4, 8, 10]);
const FAILED_PRECONDITION = 9;

function isGrpcError(e: object): e is { code: number; message?: string } {
  return typeof (e as { code?: unknown }).code === 'number' && 'metadata' in e;
}

/** Whether an error means a dependency (database or Temporal) is down rather than a bug. */
export function dependencyDown(err: unknown): 'database' | 'temporal' | null {
  const e = err as { code?: string; name?: string; message?: string } | undefined;
  if (!e) return null;
  if (e instanceof ServiceError || e.name === 'ServiceError' || e.name === 'TransportError') return 'temporal';
  // an update no worker picked up before the API's deadline (lib/config TEMPORAL_UPDATE_TIMEOUT_MS)
  if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'temporal';
  if (isGrpcError(e)) {
    if (TRANSIENT_GRPC.has(e.code)) return 'temporal';
    // a worker that died left the workflow task timed out; updates are refused until a worker has
    // run it again (found by bench/chaos: this surfaced as a 500 after a worker SIGKILL)
    if (e.code === FAILED_PRECONDITION && /workflow task in failed state/i.test(e.message ?? '')) return 'temporal';
    return null;
  }
  const code = e.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08006', '08001', '08003'].includes(code)) {
    return 'database';
  }
  if (/Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(e.message ?? '')) {
    return 'database';
  }
  return null;
}

/** Maps workflow update rejections (validators' ApplicationFailures) to the spec's responses. */
export function fromWorkflowError(err: unknown): ApiError | null {
  if (err instanceof WorkflowNotFoundError) return notFound();
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      switch (cause.type) {
        case TaskFailure.buildActive:
          return conflict('A workspace build is already active.');
        case TaskFailure.workspaceRunning:
          return conflict('Task workspace is already running.', 'Workspace status is "running".');
        case TaskFailure.taskDeleted:
          return notFound();
      }
    }
  }
  return null;
}

export function errorResponse(c: Context, err: ApiError) {
  return c.json(err.body(), err.status);
}
