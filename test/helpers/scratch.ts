// Scratch folders for helpers that hand out a folder per call and cannot know when the caller is
// done with it (a CLI user's HOME): each is removed when the test process exits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

function removeAll(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function scratchDir(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
