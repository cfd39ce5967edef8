// UUID recognition that matches Go's github.com/google/uuid Parse, because Coder decides
// "is this {task} / owner:<v> an id or a name?" with it. Accepting exactly the same spellings
// keeps `/tasks/me/<id>` and `owner:<id>` resolving identically to the reference server.

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COMPACT = /^[0-9a-f]{32}$/i;

/** Canonical lower-case form of `s` if Go's uuid.Parse would accept it, else null. */
export function parseUuid(s: string): string | null {
  let body = s;
  if (s.length === 45 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') {
    body = s.slice(9);
  } else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) {
    body = s.slice(1, -1);
  } else if (COMPACT.test(s)) {
    const h = s.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return CANONICAL.test(body) ? body.toLowerCase() : null;
}

export function isUuid(s: string): boolean {
  return parseUuid(s) !== null;
}
