import { createHash, createHmac } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loadOrCreateAgentTokenKey } from '../db/site-config';

// Agent tokens are derived, not stored: HMAC-SHA256(site secret, agent id). A retried provisioning
// activity, the credentials route and the driver all arrive at the same token without a table of
// plain secrets; the database keeps only SHA-256(token) to authenticate the agent by lookup.

// The secret is per database (tests run one database per file in one process), so it is cached per
// ORM configuration object, which every fork of one MikroORM instance shares.
const keyCache = new WeakMap<object, Promise<Buffer>>();

/** The site secret agent tokens are derived from, created on first use. */
export function agentTokenKey(em: EntityManager): Promise<Buffer> {
  const cacheKey = em.config as object;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = loadOrCreateAgentTokenKey(em);
    // a failed read (database down) must not poison the cache for the life of the process
    key.catch(() => keyCache.delete(cacheKey));
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** The plain token of an agent: same agent id, same token, for as long as the site secret lives. */
export async function deriveAgentToken(em: EntityManager, agentId: string): Promise<string> {
  const key = await agentTokenKey(em);
  return createHmac('sha256', key).update(agentId).digest('base64url');
}

/** What workspace_agents.auth_token_hash holds: SHA-256 of the plain token, hex. */
export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface ExternalAgentCredentials {
  agent_token: string;
  command: string;
}

/** Credentials for running an external workspace's agent anywhere (GET .../external-agent/{agent}/credentials). */
export async function externalAgentCredentials(
  em: EntityManager,
  opts: { agentId: string; accessUrl: string },
): Promise<ExternalAgentCredentials> {
  const token = await deriveAgentToken(em, opts.agentId);
  return { agent_token: token, command: `taskd agent --url ${opts.accessUrl} --token ${token}` };
}
