// Ordering of RFC 3339 timestamps at full precision. PostgreSQL keeps microseconds and Go
// emits nanoseconds, while Date.parse stops at milliseconds: an app status written a few
// microseconds after its build would otherwise compare as "not after" and be hidden (§2.2).

interface Instant {
  seconds: number;
  nanos: number;
}

// Accepts the 'T' or ' ' separator and the offset spellings PostgreSQL prints (+00, +05:30).
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

function parseInstant(s: string): Instant | null {
  const m = TIMESTAMP.exec(s.trim());
  if (m) {
    const [, y, mo, d, h, mi, sec, frac, zulu, sign, offH, offM] = m;
    const localMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
    let offsetSeconds = 0;
    if (!zulu && sign) {
      offsetSeconds = (Number(offH) * 60 + Number(offM ?? '0')) * 60 * (sign === '-' ? -1 : 1);
    }
    return {
      seconds: localMs / 1000 - offsetSeconds,
      nanos: frac ? Number(frac.padEnd(9, '0')) : 0,
    };
  }
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return null;
  return { seconds: Math.floor(ms / 1000), nanos: (ms - Math.floor(ms / 1000) * 1000) * 1e6 };
}

/**
 * True when `a` is strictly later than `b`. Unparsable input is never "after", which errs on
 * the side of hiding a status rather than showing a stale one.
 */
export function isStrictlyAfter(a: string, b: string): boolean {
  const x = parseInstant(a);
  const y = parseInstant(b);
  if (!x || !y) return false;
  if (x.seconds !== y.seconds) return x.seconds > y.seconds;
  return x.nanos > y.nanos;
}
