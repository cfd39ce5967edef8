// The test run's own TMPDIR. Test processes share /tmp with everything else on the machine, so a
// diff of /tmp could not tell the suite's leftovers from another program's files; inside a folder
// only this run uses, whatever is still there at the end was left by the suite.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** tsx keeps its transform cache in <tmpdir>/tsx-<uid>: a cache, not a leftover. */
const TOOL_CACHE = /^tsx-\d+$/;

/**
 * Creates `<work>/tmp`, open to every user like /tmp (the private PostgreSQL runs as `postgres`),
 * with tsx's cache linked to the machine's so each run does not transpile everything afresh.
 */
export function privateTmpDir(work: string): string {
  const dir = path.join(work, 'tmp');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o1777);
  const uid = process.getuid?.();
  if (uid !== undefined) {
    const shared = path.join(os.tmpdir(), `tsx-${uid}`);
    fs.mkdirSync(shared, { recursive: true });
    fs.symlinkSync(shared, path.join(dir, `tsx-${uid}`));
  }
  return dir;
}

/** What is left in the run's TMPDIR: one line per top-level entry, with how many files it holds. */
export function leftovers(dir: string | undefined): string[] {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !TOOL_CACHE.test(e.name))
    .map((e) => {
      const full = path.join(dir, e.name);
      if (!e.isDirectory()) return e.name;
      try {
        const files = fs.readdirSync(full, { recursive: true }).length;
        return `${e.name}/ (${files} entr${files === 1 ? 'y' : 'ies'})`;
      } catch {
        return `${e.name}/ (unreadable)`;
      }
    })
    .sort();
}
