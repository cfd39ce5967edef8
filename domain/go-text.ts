// Go's notions of quoting, whitespace and printability. Coder builds wire-visible error
// strings with %q and trims/sanitises text with unicode.IsSpace / unicode.IsPrint; clients
// compare those results literally, and JS's own \s, trim() and JSON.stringify differ at the
// edges (U+FEFF, U+0085, control-character escapes).

const NAMED_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** unicode.IsSpace, as the inside of a regular expression's character class. */
export const SPACE_CLASS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ONE_SPACE = new RegExp(`^[${SPACE_CLASS}]$`);
const EDGE_SPACE = new RegExp(`^[${SPACE_CLASS}]+|[${SPACE_CLASS}]+$`, 'g');

/** `ch` is a single code point. */
export function isGoSpace(ch: string): boolean {
  return ONE_SPACE.test(ch);
}

/** `ch` is a single code point. */
export function isGoPrint(ch: string): boolean {
  return PRINTABLE.test(ch);
}

/** strings.TrimSpace. */
export function trimSpace(s: string): string {
  return s.replace(EDGE_SPACE, '');
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** strconv.Quote, i.e. what %q prints for a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) {
      out += named;
      continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (PRINTABLE.test(ch)) {
      out += ch;
    } else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${hex(cp, 2)}`;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 to Go, which quotes the replacement character.
      out += '\\ufffd';
    } else if (cp < 0x10000) {
      out += `\\u${hex(cp, 4)}`;
    } else {
      out += `\\U${hex(cp, 8)}`;
    }
  }
  return `${out}"`;
}
