// The tokenizer shared by the `q` parameters of Coder's list routes (tasks, workspaces), following
// coderd's searchquery package step for step, quirks included, because the Coder CLI and UI build
// these strings and expect the same filters and error texts back.

import { goQuote } from './go-text';

/**
 * Splits on `delimiter` outside double quotes, dropping empty pieces (Go's strings.FieldsFunc),
 * then optionally strips quote characters from each piece's ends.
 */
export function splitOutsideQuotes(s: string, delimiter: string, keepQuotes: boolean): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === delimiter) {
      if (current !== '') parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current !== '') parts.push(current);
  return keepQuotes ? parts : parts.map(stripQuotes);
}

function stripQuotes(s: string): string {
  return s.replace(/^"+|"+$/g, '');
}

/** key:value tokens keep their order; every bare token joins one free-text term at the end. */
function groupTokens(tokens: string[]): string[] {
  const terms = tokens.filter((t) => t.includes(':'));
  const freeText = tokens.filter((t) => !t.includes(':'));
  if (freeText.length > 0) terms.push(freeText.map(stripQuotes).join(' '));
  return terms;
}

/**
 * Splits `q` (lower-cased) into key:value terms; a term without a key goes to `bare`, which adds
 * what it stands for or returns an error text. Returns the values by key, in order, or the first
 * malformed element's error text (which stops parsing, as Coder's does).
 */
export function searchTerms(
  q: string,
  bare: (term: string, add: (key: string, value: string) => void) => string | void,
): { values: Map<string, string[]>; error?: string } {
  const values = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const list = values.get(key) ?? [];
    list.push(value);
    values.set(key, list);
  };
  for (const term of groupTokens(splitOutsideQuotes(q.toLowerCase(), ' ', true))) {
    if (term.startsWith(':') || term.endsWith(':')) {
      return { values, error: `Query element ${goQuote(term)} cannot start or end with ':'` };
    }
    const parts = splitOutsideQuotes(term, ':', false);
    if (parts.length > 2) return { values, error: `Query element ${goQuote(term)} can only contain 1 ':'` };
    if (parts.length === 2) add(parts[0] ?? '', parts[1] ?? '');
    else {
      const error = bare(parts[0] ?? '', add);
      if (error) return { values, error };
    }
  }
  return { values };
}
