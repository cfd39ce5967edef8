import pino from 'pino';

// One logger for every process; children carry the component name (and request ids in the API).
export type Logger = pino.Logger;

/**
 * Without a file, JSON lines go to stdout (containers, tests). With a file (the dev launcher), everything at
 * `level` goes to the file and only warnings reach the terminal, so the launcher's progress stays readable.
 */
export function createLogger(level = 'info', name = 'taskd', file?: string): Logger {
  if (!file) return pino({ name, level, base: { pid: process.pid } });
  const streams = pino.multistream([
    { level: level as pino.Level, stream: pino.destination({ dest: file, mkdir: true, sync: false }) },
    { level: 'warn', stream: process.stderr },
  ]);
  return pino({ name, level, base: { pid: process.pid } }, streams);
}
