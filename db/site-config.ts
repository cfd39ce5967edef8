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

/** The agent-token key an earlier taskd kept in the database, if it is still there. */
export async function legacyAgentTokenKey(caller: EntityManager): Promise<Buffer | null> {
  const row = await sqlOne<{ value: string }>(caller.fork() as EntityManager, 'select value from site_config where key = ?', [AGENT_TOKEN_KEY]);
  return row?.value ? Buffer.from(row.value, 'hex') : null;
}

/** Forgets the database copy of the agent-token key, once it is kept elsewhere. */
export async function dropLegacyAgentTokenKey(caller: EntityManager): Promise<void> {
  await sql(caller.fork() as EntityManager, 'delete from site_config where key = ?', [AGENT_TOKEN_KEY]);
}
