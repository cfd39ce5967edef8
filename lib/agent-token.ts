import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { dropLegacyAgentTokenKey, legacyAgentTokenKey, loadOrCreateAgentTokenKey } from '../db/site-config';

// Agent tokens are derived, not stored: HMAC-SHA256(site secret, agent id). A retried provisioning
// activity, the credentials route and the driver all arrive at the same token without a table of
// plain secrets; the database keeps only SHA-256(token) to authenticate the agent by lookup, and a
// token is refused once a later build of its workspace has finished (api/middleware/agent-auth.ts).
//
// The site secret lives outside the database, so that whoever reads the database cannot mint an
// agent's token: TASKD_SECRET_KEY (64 hex characters; what several hosts must share) or, when that is
// unset, a file of the data folder, `secrets/agent-token.key` (0600, created on first use). A key an
// earlier taskd kept in the database (site_config) is moved to the file on first use, so the agents
// of running workspaces keep working. A process that names neither (a tool, a unit test) falls back
// to the database copy.

export interface AgentTokenKeySource {
  /** TASKD_SECRET_KEY */
  secret?: string;
  dataDir: string;
}

let source: AgentTokenKeySource | null = null;
let sourced: Promise<Buffer> | null = null;

/** Where this process keeps the agent-token key (called once by the API and the worker at start). */
export function useAgentTokenKey(from: AgentTokenKeySource): void {
  source = from;
  sourced = null;
}

/** The path of the key file in a data folder. */
export const agentTokenKeyFile = (dataDir: string) => path.join(dataDir, 'secrets', 'agent-token.key');

async function keyFromSource(em: EntityManager, from: AgentTokenKeySource): Promise<Buffer> {
  if (from.secret) {
    if (!/^[0-9a-f]{64}$/i.test(from.secret)) throw new Error('TASKD_SECRET_KEY must be 64 hexadecimal characters (32 random bytes)');
    return Buffer.from(from.secret, 'hex');
  }
  const file = agentTokenKeyFile(from.dataDir);
  const read = () => Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
  if (fs.existsSync(file)) return read();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const legacy = await legacyAgentTokenKey(em);
  try {
    // exclusive: of two processes creating it at once, one wins and both use its key
    fs.writeFileSync(file, `${(legacy ?? randomBytes(32)).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = read();
  if (legacy) await dropLegacyAgentTokenKey(em);
  return key;
}

// Without a source: the secret is per database (tests run one database per file in one process), so
// it is cached per ORM configuration object, which every fork of one MikroORM instance shares.
const keyCache = new WeakMap<object, Promise<Buffer>>();

/** The site secret agent tokens are derived from, created on first use. */
export function agentTokenKey(em: EntityManager): Promise<Buffer> {
  if (source) {
    if (!sourced) {
      const loading = keyFromSource(em, source);
      loading.catch(() => (sourced = null));
      sourced = loading;
    }
    return sourced;
  }
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
  // the token travels in the environment: a command line is visible to every user of the machine
  return { agent_token: token, command: `TASKD_AGENT_TOKEN=${token} taskd agent --url ${opts.accessUrl}` };
}
