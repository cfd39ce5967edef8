import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords are stored as "scrypt$N$r$p$<salt b64>$<hash b64>": the cost parameters travel with each
// hash so they can be raised without invalidating existing users (verify reads them back), and a
// hash below today's cost is replaced at the user's next successful login (needsRehash).
// N=2^17, r=8 (OWASP's minimum for scrypt) costs 128 MiB and a few hundred ms per attempt: fine for
// a login, expensive for a stolen-database brute force. TASKD_TEST_SCRYPT_LOG2N lowers N for the
// test suite only, which creates hundreds of users.

const SCHEME = 'scrypt';

/** The cost of new hashes. */
export function scryptCost(env: NodeJS.ProcessEnv = process.env): { N: number; r: number; p: number } {
  const log2 = Number(env.TASKD_TEST_SCRYPT_LOG2N);
  return { N: 2 ** (Number.isInteger(log2) && log2 >= 10 && log2 < 17 ? log2 : 17), r: 8, p: 1 };
}
const DEFAULT_COST = scryptCost();
const KEY_BYTES = 32;
const SALT_BYTES = 16;
// upper bounds accepted when reading a stored hash, so a tampered row cannot make verify allocate GBs
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

export const PASSWORD_MIN_LENGTH = 8;
/** in characters (code points), as the OpenAPI document's maxLength counts them */
export const PASSWORD_MAX_LENGTH = 256;

function derive(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  // scrypt needs 128*N*r bytes; give it twice that so Node's default 32 MiB cap never trips
  const maxmem = 256 * (opts.N ?? DEFAULT_COST.N) * (opts.r ?? DEFAULT_COST.r);
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLen, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const { N, r, p } = DEFAULT_COST;
  const key = await derive(password, salt, KEY_BYTES, { N, r, p });
  return [SCHEME, N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(encoded: string): Parsed | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== SCHEME) return null;
  const [N, r, p] = parts.slice(1, 4).map((v) => Number.parseInt(v, 10));
  const salt = Buffer.from(parts[4], 'base64');
  const key = Buffer.from(parts[5], 'base64');
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || !(r >= 1 && r <= MAX_R) || !(p >= 1 && p <= MAX_P)) return null;
  if (salt.length < 8 || key.length < 16) return null;
  return { N, r, p, salt, key };
}

/** Constant-time check of a password against a stored hash; false for malformed hashes. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, { N: parsed.N, r: parsed.r, p: parsed.p });
  return timingSafeEqual(key, parsed.key);
}

/** Whether a stored hash was made at less than today's cost (or is unreadable) and should be replaced. */
export function needsRehash(encoded: string): boolean {
  const parsed = parse(encoded);
  return !parsed || parsed.N < DEFAULT_COST.N || parsed.r < DEFAULT_COST.r || parsed.p < DEFAULT_COST.p;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same work as a real verification; called when the email is unknown so response time
 * does not reveal which accounts exist.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hashPassword('taskd-dummy-password');
  await verifyPassword(password, await dummyHash);
  return false;
}

/** Human-readable problem with a new password, or null when acceptable. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `Password must be at least ${PASSWORD_MIN_LENGTH} characters.`;
  if ([...password].length > PASSWORD_MAX_LENGTH) return `Password must be at most ${PASSWORD_MAX_LENGTH} characters.`;
  return null;
}
