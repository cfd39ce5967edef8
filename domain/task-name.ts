// Task names (spec §6). A task's workspace is named after the task, so names must satisfy
// Coder's workspace NameValid; generated names reserve 5 bytes for a "-xxxx" suffix so that
// two tasks started from the same prompt do not collide on the workspace name.

import { goQuote, isGoSpace, trimSpace } from './go-text';
import { NAME_ADJECTIVES, NAME_SURNAMES } from './name-words';
import { utf8ByteLength, utf8Head } from './utf8';

export const TASK_NAME_MAX_BYTES = 32;
export const TASK_NAME_STEM_MAX_BYTES = 27;
export const DISPLAY_NAME_MAX_BYTES = 64;
export const DISPLAY_NAME_MAX_RUNES = 64;

export interface TaskName {
  name: string;
  displayName: string;
}

const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;

/** The detail text Coder's NameValid gives for `name`, or null when the name is valid. */
export function validateTaskName(name: string): string | null {
  const bytes = utf8ByteLength(name);
  if (bytes > TASK_NAME_MAX_BYTES) return 'must be <= 32 characters';
  if (bytes < 1) return 'must be >= 1 character';
  // These would shadow routes such as /templates/new in the Coder UI.
  if (name === 'new' || name === 'create') return `cannot use ${goQuote(name)} as a name`;
  if (!NAME_PATTERN.test(name)) return 'must be alphanumeric with hyphens';
  return null;
}

/** The display name as stored: trimmed (the API stores what it validated). */
export function normalizeDisplayName(displayName: string): string {
  return trimSpace(displayName);
}

/** Error message for a user-supplied display name, or null. Limit is in bytes, after trimming. */
export function validateDisplayName(displayName: string): string | null {
  if (utf8ByteLength(normalizeDisplayName(displayName)) > DISPLAY_NAME_MAX_BYTES) {
    return 'Display name must be 64 characters or less.';
  }
  return null;
}

/**
 * Cuts `s` to at most `n` code points. With `fullWords` the cut moves back to the last
 * whitespace (hard cut when there is none); with `ellipsis` one code point is reserved for "…".
 */
export function truncateRunes(s: string, n: number, opts: { fullWords?: boolean; ellipsis?: boolean } = {}): string {
  if (n < 1) return '';
  const runes = Array.from(s);
  if (runes.length <= n) return s;
  const kept = runes.slice(0, opts.ellipsis ? n - 1 : n);
  let cut = kept.length;
  if (opts.fullWords) {
    for (let i = kept.length - 1; i >= 0; i--) {
      if (isGoSpace(kept[i] ?? '')) {
        cut = i;
        break;
      }
    }
  }
  return kept.slice(0, cut).join('') + (opts.ellipsis ? '…' : '');
}

export function capitalizeFirst(s: string): string {
  const first = s.codePointAt(0);
  if (first === undefined) return s;
  const ch = String.fromCodePoint(first);
  return ch.toUpperCase() + s.slice(ch.length);
}

function unitInterval(rand: () => number): number {
  const x = rand();
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1 - Number.EPSILON) : 0;
}

/** Four lower-case hex digits, 0000-ffff. */
export function taskNameSuffix(rand: () => number): string {
  return Math.floor(unitInterval(rand) * 0x10000)
    .toString(16)
    .padStart(4, '0');
}

function pick(words: readonly string[], rand: () => number): string {
  return words[Math.floor(unitInterval(rand) * words.length)] ?? words[0] ?? 'task';
}

function trimHyphens(s: string): string {
  return s.replace(/^-+|-+$/g, '');
}

/**
 * Strategy 2: a name and display name taken from the prompt itself, or null when the prompt
 * holds nothing usable (empty, blank, punctuation only).
 */
export function taskNameFromPrompt(prompt: string, rand: () => number): TaskName | null {
  const text = prompt.replace(/[\n\r\t]+/g, ' ');
  // Go's regexp \s is ASCII-only; other whitespace is dropped with the non-slug characters.
  const stem = trimHyphens(
    truncateRunes(text, TASK_NAME_STEM_MAX_BYTES, { fullWords: true })
      .toLowerCase()
      .replace(/[\t\n\f\r ]+/g, '-')
      .replace(/[^a-z0-9-]+/g, '')
      .replace(/-+/g, '-'),
  );
  if (stem === '') return null;
  let displayName = trimSpace(truncateRunes(text, DISPLAY_NAME_MAX_RUNES, { fullWords: true, ellipsis: true }));
  if (displayName === '') displayName = stem.replaceAll('-', ' ');
  return { name: `${stem}-${taskNameSuffix(rand)}`, displayName: capitalizeFirst(displayName) };
}

/** Strategy 3: an "adjective-surname" name that is always valid. */
export function randomTaskName(rand: () => number): TaskName {
  const words = `${pick(NAME_ADJECTIVES, rand)}-${pick(NAME_SURNAMES, rand)}`;
  const stem = trimHyphens(utf8Head(words, TASK_NAME_STEM_MAX_BYTES));
  return { name: `${stem}-${taskNameSuffix(rand)}`, displayName: capitalizeFirst(stem.replaceAll('-', ' ')) };
}

/**
 * Name and display name for a task created without them (strategies 2 then 3 of §6.1). Always
 * succeeds. `rand` returns numbers in [0, 1); workflows pass their deterministic random.
 */
export function generateTaskName(prompt: string, rand: () => number): TaskName {
  return taskNameFromPrompt(prompt, rand) ?? randomTaskName(rand);
}
