// Byte-length helpers for limits the wire contract states in UTF-8 bytes (names, display
// names, status messages, snapshot bodies). Hand-rolled rather than TextEncoder so the
// module stays dependency-free inside the Temporal workflow sandbox.

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Bytes one code point starting at `s[i]` takes, and how many UTF-16 units it spans. */
function codePointAt(s: string, i: number): { bytes: number; units: number } {
  const c = s.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (isHighSurrogate(c) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
    return { bytes: 4, units: 2 };
  }
  // Lone surrogates are encoded as U+FFFD (3 bytes), as every UTF-8 encoder does.
  return { bytes: 3, units: 1 };
}

export function utf8ByteLength(s: string): number {
  let total = 0;
  for (let i = 0; i < s.length; ) {
    const cp = codePointAt(s, i);
    total += cp.bytes;
    i += cp.units;
  }
  return total;
}

/** Longest prefix of `s` that fits in `maxBytes`, never splitting a code point. */
export function utf8Head(s: string, maxBytes: number): string {
  let used = 0;
  let i = 0;
  while (i < s.length) {
    const cp = codePointAt(s, i);
    if (used + cp.bytes > maxBytes) break;
    used += cp.bytes;
    i += cp.units;
  }
  return s.slice(0, i);
}

/** Longest suffix of `s` that fits in `maxBytes`, never splitting a code point. */
export function utf8Tail(s: string, maxBytes: number): string {
  let used = 0;
  let start = s.length;
  while (start > 0) {
    let units = 1;
    const last = s.charCodeAt(start - 1);
    if (isLowSurrogate(last) && start >= 2 && isHighSurrogate(s.charCodeAt(start - 2))) units = 2;
    const bytes = codePointAt(s, start - units).bytes;
    if (used + bytes > maxBytes) break;
    used += bytes;
    start -= units;
  }
  return s.slice(start);
}
