import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, sqlOne } from './sql';

// Server-wide settings generated once per deployment.

const AGENT_TOKEN_KEY = 'agent_token_key';

/** The 32-byte key agent tokens are derived from, created on first use. */
export async function loadOrCreateAgentTokenKey(caller: EntityManager): Promise<Buffer> {
  // outside the caller's transaction: a key cached for the life of the process must be committed
  const em = caller.fork() as EntityManager;
  // Two processes may race on first use: both insert, one wins, and both read the winner back.
  await sql(em, 'insert into site_config (key, value) values (?, ?) on conflict (key) do nothing', [
    AGENT_TOKEN_KEY,
    randomBytes(32).toString('hex'),
  ]);
  const row = await sqlOne<{ value: string }>(em, 'select value from site_config where key = ?', [AGENT_TOKEN_KEY]);
  if (!row?.value) throw new Error('site_config.agent_token_key could not be read back');
  return Buffer.from(row.value, 'hex');
}
