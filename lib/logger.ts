import pino from 'pino';

// One logger for every process; children carry the component name (and request ids in the API).
export type Logger = pino.Logger;

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'taskd'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
