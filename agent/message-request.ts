import type { ErrorDetail } from './agentapi-http';
import type { MessageType } from './agentapi-wire';

// Validation of POST /message, hand-rolled rather than zod so the problem details match huma's
// wording and locations (§1.4); clients such as the official chat UI display errors[].message.

export type MessageRequest = { content: string; type: MessageType };

export type RequestCheck =
  | { ok: true; value: MessageRequest }
  | { ok: false; status: 400 | 422; detail: string; errors: ErrorDetail[] };

const KNOWN = new Set(['$schema', 'content', 'type']);

export function checkMessageRequest(body: Buffer): RequestCheck {
  if (body.length === 0) {
    return {
      ok: false,
      status: 400,
      detail: 'request body is required',
      errors: [{ message: 'request body is required', location: 'body' }],
    };
  }
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      status: 400,
      detail: 'validation failed',
      errors: [{ message: (err as Error).message, location: 'body', value: text }],
    };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return invalid([{ message: 'expected object', location: 'body', value: parsed }]);
  }
  const obj = parsed as Record<string, unknown>;
  const errors: ErrorDetail[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (!KNOWN.has(key)) errors.push({ message: 'unexpected property', location: `body.${key}`, value });
  }
  if ('$schema' in obj && typeof obj.$schema !== 'string') {
    errors.push({ message: 'expected string', location: 'body.$schema', value: obj.$schema });
  }
  for (const field of ['content', 'type'] as const) {
    if (!(field in obj)) {
      errors.push({ message: `expected required property ${field} to be present`, location: 'body', value: obj });
    } else if (typeof obj[field] !== 'string') {
      errors.push({ message: 'expected string', location: `body.${field}`, value: obj[field] });
    }
  }
  if (typeof obj.type === 'string' && obj.type !== 'user' && obj.type !== 'raw') {
    errors.push({ message: 'expected value to be one of "raw, user"', location: 'body.type', value: obj.type });
  }
  if (errors.length > 0) return invalid(errors);
  return { ok: true, value: { content: obj.content as string, type: obj.type as MessageType } };
}

function invalid(errors: ErrorDetail[]): RequestCheck {
  return { ok: false, status: 422, detail: 'validation failed', errors };
}
