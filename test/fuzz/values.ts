// Generators of hostile values: strings and bytes for path segments, query strings, tokens and
// JSON bodies. Everything is plain fast-check, so one seed reproduces a whole run.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

/** Percent-encodes every byte outside the unreserved set, so any byte sequence (invalid UTF-8 too) fits a URL. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** Text that breaks naive handling: RTL overrides, combining marks, emoji, zero-width, NUL, controls. */
export const trickyText = fc.oneof(
  fc.constantFrom(
    '\u202Egnp.exe',
    'a\u0301\u0302\u0303\u0304\u0305',
    'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358',
    '👩‍👩‍👧‍👦🏳️‍🌈',
    '\u200B\u200C\u200D\uFEFF',
    'null\u0000byte',
    '\u0000',
    'line\r\nbreak',
    '\u05E9\u05DC\u05D5\u05DD',
    '\u0645\u0631\u062D\u0628\u0627',
    'ǅungla',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    '<script>alert(1)</script>',
    "'; drop table tasks; --",
    '${jndi:ldap://x}',
    '../../etc/passwd',
    '%s%s%s%n',
    '\u001b[31mred\u001b[0m',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Byte sequences that are not valid UTF-8: lone surrogates (CESU), overlongs, stray continuation bytes. */
export const invalidUtf8 = fc.oneof(
  fc.constantFrom(
    Uint8Array.from([0xed, 0xa0, 0x80]),
    Uint8Array.from([0xed, 0xbf, 0xbf]),
    Uint8Array.from([0xc0, 0xae]),
    Uint8Array.from([0xc0, 0x80]),
    Uint8Array.from([0xff, 0xfe]),
    Uint8Array.from([0x80]),
    Uint8Array.from([0xf4, 0x90, 0x80, 0x80]),
    Uint8Array.from([0xe2, 0x82]),
    Uint8Array.from([0x00]),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 24 }),
);

/** Spellings of ids: random, nil, malformed, and Go-accepted variants of a given id. */
export function uuidVariants(id: string): string[] {
  const compact = id.replace(/-/g, '');
  return [id, id.toUpperCase(), compact, `{${id}}`, `urn:uuid:${id}`];
}

export const badUuid = fc.oneof(
  fc.uuid(),
  fc.constantFrom(
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
    '1234',
    '{00000000-0000-0000-0000-000000000000',
    'urn:uuid:',
    `${randomUUID()}0`,
    `${randomUUID()}-`,
    ' 00000000-0000-0000-0000-000000000000',
  ),
  fc.stringMatching(/^[0-9a-fA-FgG-]{30,40}$/),
);

/** Raw path segments: traversal, encodings, empty, huge, unicode, invalid bytes. */
export const oddSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', '.', '..', '%2e', '%2e%2e', '%2E%2e', '.%2e', '..%2f..', '%2f', '%2F%2F', '%5c', '..%5c..', '%00', '%ff', '%',
    '%zz', '%c0%ae%c0%ae', 'me%00', ';', ';x=1', '%3b', '*', '~', 'me%20', '%20', '+', '%2b', 'ME', 'Me', 'null',
    'undefined', '0', '-1', 'new', 'create', 'openapi.json', 'me%2fx', '@me', '%40me',
  ),
  badUuid,
  fc.integer({ min: 200, max: 7_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 50, max: 1_500 }).map((n) => '%e2%80%ae'.repeat(n)),
  trickyText.map((s) => percentEncodeBytes(utf8(s))),
  invalidUtf8.map(percentEncodeBytes),
  // raw bytes 0x80-0xff on the request line (node sends them as latin1: invalid UTF-8 on the wire)
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 }),
);

/** Free-form query strings, including malformed percent-encoding and duplicate keys. */
export const oddQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '?', '?&', '?=', '?a', '?a=1&a=2', '?%', '?%zz=1', '?q=%ff', '?format=agentapi', '?format=', '?format=text',
    '?format=agentapi&x=1', '?format=agentapi&format=other', '?limit=-1', '?offset=1e9', '?limit=99999999999999999999'),
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom('q', 'format', 'limit', 'offset', 'after_id', 'owner', 'status'), fc.string({ maxLength: 8 })), fc.oneof(trickyText, fc.string())), { maxLength: 4 })
    .map((pairs) => '?' + pairs.map(([k, v]) => `${percentEncodeBytes(utf8(k))}=${percentEncodeBytes(utf8(v))}`).join('&')),
);

/** The task search grammar of spec §5, scrambled: keys, colons, quotes, values that resolve and that do not. */
export function searchQuery(known: string[]): fc.Arbitrary<string> {
  const key = fc.constantFrom('owner', 'status', 'organization', 'OWNER', 'template', '', 'me');
  const value = fc.oneof(
    fc.constantFrom('me', 'active', 'paused', 'pending', 'bogus', 'initializing', '"quoted value"', '"', '""', '"a:b"', ':', '::'),
    fc.constantFrom(...known),
    badUuid,
    trickyText,
  );
  const term = fc.oneof(
    fc.tuple(key, value).map(([k, v]) => `${k}:${v}`),
    fc.tuple(key, value, value).map(([k, a, b]) => `${k}:${a}:${b}`),
    key.map((k) => `:${k}`),
    key.map((k) => `${k}:`),
    value,
  );
  return fc
    .array(term, { maxLength: 6 })
    .chain((terms) => fc.constantFrom(' ', '  ', '\t', '+').map((sep) => terms.join(sep)))
    .map((q) => `?q=${percentEncodeBytes(utf8(q))}`);
}

/** Session tokens that must all be refused: random, well-shaped but unknown, huge, odd spellings. */
export const forgedToken: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }).filter((s) => s.trim() !== ''),
  fc.constantFrom('-', 'a-', '-b', 'null', 'undefined', 'Bearer', '0000000000-', 'x'.repeat(8_000), '%00', 'a-b-c'),
);

/** Any JSON value whatsoever (deep, wide, unicode). */
export const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Values of the wrong type, and of the right type but hostile. */
export const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, '', ' ', '   \n\t', [], {}, [null], { a: 1 }),
  trickyText,
  badUuid,
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
  anyJson,
);

/** Malformed JSON documents. */
export const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('{', '}', '{"a":', '[1,2', 'nul', 'tru', '{"input": "x",}', "{'input':'x'}", '{"input": undefined}', 'NaN',
    '1e999999', '{"a":1}{"b":2}', '\uFEFF{}', '{"input":"\\ud800"}', '{"input":"\\u00"}', '"unterminated', '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"x":1}}}', '[]', '""', '0', 'null'),
  fc.string({ maxLength: 64 }),
  fc.integer({ min: 1_000, max: 120_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
  fc.integer({ min: 1_000, max: 50_000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
);
