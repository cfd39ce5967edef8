import { parseTrustedProxies } from '../domain/trusted-proxies';
import path from 'node:path';
import { z } from 'zod';
import { parseEgressPolicy } from '../domain/egress-policy';

// The one place that reads process.env: everything else receives a typed Config,
// so a bad value stops start-up here with the variable's name instead of failing later.

/** An optional variable read by `parse`, whose error (naming the bad part) becomes the variable's problem. */
function parsedBy<T>(parse: (value: string | undefined) => T) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.string().trim().min(1).optional();
const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+/, 'must be an http:// or https:// URL');
const switchValue = z.enum(['1', '0', 'true', 'false', 'yes', 'no', '']).optional();
/** A switch that is off unless turned on */
const bool = switchValue.transform((v) => v === '1' || v === 'true' || v === 'yes');
/** A switch that is on unless turned off */
const boolOn = switchValue.transform((v) => !(v === '0' || v === 'false' || v === 'no'));

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  TASKD_DATA_DIR: z.string().min(1).optional(),
  TASKD_ACCESS_URL: z.string().url().optional(),
  TASKD_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters (32 random bytes, e.g. openssl rand -hex 32)')
    .optional(),
  DATABASE_URL: optionalUrl.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  ),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_PREPARED_STATEMENTS: boolOn,
  TEMPORAL_ADDRESS: optionalUrl.pipe(
    z.string().regex(/^[^\s:/]+:\d+$/, 'must be host:port').optional(),
  ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('taskd'),
  TEMPORAL_CLI: z.string().min(1).optional(),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UPDATE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  TASKD_MIGRATE: bool,
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  NOTIFY_WEBHOOK_URL: z.string().url().optional(),
  NOTIFY_WEBHOOK_SECRET: z.string().min(1).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_MODEL: z.string().min(1).default('claude-3-5-haiku-latest'),
  TASKD_HOST_ID: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore').optional(),
  // how long stopping a process-driver workspace waits after SIGTERM (its agent uploads the log snapshot)
  TASKD_WORKSPACE_STOP_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  // what sandboxed workspaces reach on the internet through taskd's egress proxy: public, none, or hosts
  TASKD_WORKSPACE_EGRESS: parsedBy(parseEgressPolicy),
  WORKER_HEALTH_PORT: port.optional(),
  // the docker driver mounts this host's files into containers, so its daemon must be a local socket
  DOCKER_HOST: z.string().regex(/^unix:\/\/\/./, 'must be unix:///path/to/docker.sock (a daemon on this host)').optional(),
  // reverse proxies whose X-Forwarded-For names the client (IPs or CIDR ranges)
  TASKD_TRUSTED_PROXIES: parsedBy(parseTrustedProxies),
  /** how long an API process may reuse a verified session token's row (0: read it on every request) */
  TASKD_AUTH_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  /** how often a watch stream sends a keepalive and re-checks its session */
  TASKD_WATCH_HEARTBEAT_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
  /** where the API serves Prometheus metrics (host:port, off when unset); the worker serves them on its health port */
  TASKD_METRICS_ADDR: optionalUrl.pipe(
    z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/, 'must be host:port')
      .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535')
      .optional(),
  ),
  // traces go out over OTLP/HTTP when either is set (the exporter reads its other OTEL_* variables itself)
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
});

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; problem: string }[]) {
    super(
      'Invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()) {
  const cleaned = Object.fromEntries(
    Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), problem: i.message })),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.TASKD_DATA_DIR ?? '.data');
  return {
    http: {
      host: e.HOST,
      port: e.PORT,
      maxBodyBytes: e.MAX_BODY_BYTES,
      authCacheMs: e.TASKD_AUTH_CACHE_MS,
      watchHeartbeatMs: e.TASKD_WATCH_HEARTBEAT_MS,
      accessUrl: e.TASKD_ACCESS_URL ?? `http://${e.HOST}:${e.PORT}`,
      trustedProxies: e.TASKD_TRUSTED_PROXIES,
    },
    dataDir,
    /** the agent-token key, shared by every host (else a file of the data folder: lib/agent-token.ts) */
    secretKey: e.TASKD_SECRET_KEY,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
      migrateOnStart: e.TASKD_MIGRATE,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI,
      uiPort: e.TEMPORAL_UI_PORT,
      updateTimeoutMs: e.TEMPORAL_UPDATE_TIMEOUT_MS,
    },
    logLevel: e.LOG_LEVEL,
    notify: { webhookUrl: e.NOTIFY_WEBHOOK_URL, webhookSecret: e.NOTIFY_WEBHOOK_SECRET },
    llm: { apiKey: e.ANTHROPIC_API_KEY, model: e.ANTHROPIC_MODEL },
    worker: {
      hostId: e.TASKD_HOST_ID,
      healthPort: e.WORKER_HEALTH_PORT,
      workspaceStopGraceMs: e.TASKD_WORKSPACE_STOP_GRACE_MS,
      workspaceEgress: e.TASKD_WORKSPACE_EGRESS,
    },
    metrics: { address: e.TASKD_METRICS_ADDR ? hostAndPort(e.TASKD_METRICS_ADDR) : undefined },
    tracing: { enabled: Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) },
    docker: { socketPath: e.DOCKER_HOST?.slice('unix://'.length) ?? '/var/run/docker.sock' },
  };
}

/** `host:port` or `[v6]:port`, as a listener takes it. */
function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}
