import { createHash } from 'node:crypto';

// Name-based UUIDs: the same name always gives the same id. Used where a retried or duplicated
// request must land on the same row or workflow without a lookup first (the task id behind an
// Idempotency-Key, the agent of a build, a status written once per build). Both kinds are stored
// in existing rows, so neither may ever change.

/** taskd's namespace, so our names never collide with another system's v5 ids. */
const TASKD_NAMESPACE = '0c6d9ec7-987a-4ebe-b7a7-cbc51f2529a8';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

/** A UUID (RFC 9562 version 5) from the name parts, in taskd's namespace. */
export function stableUuid(...nameParts: string[]): string {
  // Length-prefixed parts: ("ab","c") and ("a","bc") must not give the same id.
  const name = nameParts.map((p) => `${Buffer.byteLength(p)}:${p}`).join('|');
  const hash = createHash('sha1').update(uuidBytes(TASKD_NAMESPACE)).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A UUID (version 8, "custom") from the SHA-256 of `name`. */
export function namedUuid(name: string): string {
  const b = createHash('sha256').update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
