import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  clearLoginFailures,
  forgetLoginFailures,
  lockLoginKeys,
  msUntilNthFailureExpires,
  recordLoginFailures,
} from '../../db/login-failures';

// Failed logins counted in PostgreSQL, so every API process enforces the same limits:
//   - per account and address: `accountAddress.max` failures in its window, then that address waits
//     (the real user elsewhere is not affected);
//   - per address, across accounts: `address.max`, so one address cannot spray many emails;
//   - per account, from everywhere: past `account.max` failures in its (long) window, an address that
//     has itself failed for that account in the window is refused, so a distributed guesser needs a
//     fresh address for every guess while the user, from an address with no failures, still gets in.
// Each attempt is checked and counted in one transaction holding a lock on its keys, before the
// password is verified; a successful attempt is taken back and clears its account+address count.
// Concurrent attempts therefore queue on the lock and cannot all pass under a limit. Keys are stored
// as SHA-256 only; unknown and known accounts are counted alike.

export interface Limit {
  max: number;
  windowMs: number;
}

export interface LoginLimits {
  accountAddress: Limit;
  address: Limit;
  account: Limit;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  accountAddress: { max: 5, windowMs: 60_000 },
  address: { max: 30, windowMs: 10 * 60_000 },
  account: { max: 50, windowMs: 60 * 60_000 },
};

export type Attempt = { allowed: true; counted: string[]; accountAddressKey: string } | { allowed: false; retryAfterS: number };

const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

export class LoginThrottle {
  constructor(private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Checks the limits and, when allowed, counts the attempt as a failure until `succeeded`. Run it in a transaction. */
  async attempt(tx: EntityManager, email: string, address: string): Promise<Attempt> {
    const account = hashKey(`account|${email.toLowerCase()}`);
    const fromAddress = hashKey(`address|${address}`);
    const accountAddress = hashKey(`account-address|${address}|${email.toLowerCase()}`);
    await lockLoginKeys(tx, [account, fromAddress, accountAddress]);
    const { accountAddress: aa, address: a, account: acct } = this.limits;
    const waits = [
      await msUntilNthFailureExpires(tx, accountAddress, aa.windowMs, aa.max),
      await msUntilNthFailureExpires(tx, fromAddress, a.windowMs, a.max),
    ];
    const accountWait = await msUntilNthFailureExpires(tx, account, acct.windowMs, acct.max);
    if (accountWait !== null && (await msUntilNthFailureExpires(tx, accountAddress, acct.windowMs, 1)) !== null) waits.push(accountWait);
    const wait = Math.max(...waits.map((w) => w ?? 0));
    if (wait > 0) return { allowed: false, retryAfterS: Math.max(1, Math.ceil(wait / 1000)) };
    return { allowed: true, counted: await recordLoginFailures(tx, [account, fromAddress, accountAddress]), accountAddressKey: accountAddress };
  }

  /** The password was right: the attempt is not a failure, and this address starts afresh for the account. */
  async succeeded(em: EntityManager, attempt: Extract<Attempt, { allowed: true }>): Promise<void> {
    await forgetLoginFailures(em, attempt.counted);
    await clearLoginFailures(em, attempt.accountAddressKey);
  }
}
