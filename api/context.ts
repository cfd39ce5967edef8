import type { OpenAPIHono } from '@hono/zod-openapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Registry } from 'prom-client';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { Orm } from '../db/orm';
import type { TaskEvents } from './watch/task-events';
import type { SessionCache } from './auth/session-cache';

/** The authenticated caller of a user endpoint. */
export interface Actor {
  userId: string;
  username: string;
  isSiteOwner: boolean;
  apiKeyId: string;
  /** the caller's users row as read when the token was verified: "me" resolves without a query */
  storedUser?: Readonly<Record<string, unknown>>;
}

/** The authenticated caller of an agent endpoint (agent token). */
export interface AgentActor {
  agentId: string;
  buildId: string;
  buildNumber: number;
  workspaceId: string;
  ownerId: string;
}

export interface AppDeps {
  config: Config;
  orm: Orm;
  temporal: Client;
  log: Logger;
  /** live task changes (the watch endpoints answer 503 without them) */
  events?: TaskEvents;
  /** verified session tokens, kept current by `events` (api/auth/session-cache.ts); absent: no caching */
  sessions?: SessionCache;
  /** where request latencies are counted (absent: metrics are off, nothing is measured) */
  metrics?: Registry;
  /** whether each request is a server span of the process's OpenTelemetry traces (lib/tracing.ts) */
  traced?: boolean;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    /** the client's address: the TCP peer, or what trusted proxies say (domain/trusted-proxies.ts) */
    clientIp: string;
    log: Logger;
    /** forked per request: never share an identity map between requests */
    em: EntityManager;
    /** deps.sessions, for the authentication middleware */
    sessions: SessionCache | undefined;
    actor: Actor;
    agent: AgentActor;
  };
}

/** The application and its routers, as every route module registers on them. */
export type ApiApp = OpenAPIHono<AppEnv>;
