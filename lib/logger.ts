import pino from 'pino';

// One logger for every process; children carry the component name (and request ids in the API).
export type Logger = pino.Logger;

/**
 * Without a file, JSON lines go to stdout (containers, tests). With a file (the dev launcher), everything at
 * `level` goes to the file and only warnings reach the terminal, so the launcher's progress stays readable.
 */
export function createLogger(level = 'info', name = 'taskd', file?: string): Logger {
  const options: pino.LoggerOptions = { name, level, base: { pid: process.pid }, serializers: { err: serializeError } };
  if (!file) return pino(options);
  const streams = pino.multistream([
    { level: level as pino.Level, stream: pino.destination({ dest: file, mkdir: true, sync: false }) },
    { level: 'warn', stream: process.stderr },
  ]);
  return pino(options, streams);
}

// A failed statement's error can carry its SQL with the values inlined (the ORM inlines them before
// sending): prompts, emails, addresses. Logs keep the statement's shape and the reason, with every
// string literal replaced, and drop bound parameters an error carries.
const SQL_STRING_LITERAL = /(?<![\w$])E?'(?:[^']|'')*'/g;

export function redactSqlValues(text: string): string {
  return /\b(insert|update|delete|select|with)\b/i.test(text) ? text.replace(SQL_STRING_LITERAL, "'…'") : text;
}

function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (!out || typeof out !== 'object') return out;
  for (const key of ['message', 'stack', 'sql', 'query']) {
    if (typeof out[key] === 'string') out[key] = redactSqlValues(out[key] as string);
  }
  for (const key of ['params', 'parameters', 'bindings']) if (key in out) out[key] = '[redacted]';
  return out;
}
