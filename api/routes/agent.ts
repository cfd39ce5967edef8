import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ApiApp, AppDeps, AppEnv } from '../context';
import { ApiError, dependencyDown, INTERNAL_DETAIL, withCause } from '../errors';
import { requireAgent } from '../middleware/agent-auth';
import { replaceNul } from '../middleware/unstorable-text';
import { recordAppStatus } from '../agent/app-status';
import { loadManifest, manifestSchema } from '../agent/manifest';
import { storeAppHealth, storeLifecycle } from '../agent/reports';
import { movesTaskStatus, signalAgentReport, wakeQueueOnIdle } from '../agent/signal';
import {
  SNAPSHOT_BODY_LIMIT,
  checkSnapshotQuery,
  decodeSnapshotBody,
  loadAgentTask,
  parseTaskParam,
  readCappedBody,
} from '../agent/task-uploads';
import { storeMessages, storeSnapshot } from '../../db/conversation';
import { AGENT_LIFECYCLES } from '../../domain/task-status';
import { shouldBumpActivity } from '../../domain/app-status';
import type { AgentReport } from '../../workflows/contracts';

// The workspace agent's side of the API (/workspaceagents/me/*, agent token auth). Reports are
// stored before anything else, then the task workflow is signalled so it wakes at once.

const tags = ['Agents'];
const security = [{ CoderSessionToken: [] }];
const UUID_LIKE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const uuidLike = z.string().regex(UUID_LIKE, 'must be a UUID');
// zod takes any two digits as an offset's hours; one PostgreSQL cannot hold (beyond ±15:59) was a 500
const PG_MAX_OFFSET_MIN = 15 * 60 + 59;
const rfc3339 = z
  .string()
  .datetime({ offset: true })
  .refine(
    (s) => {
      const offset = /([+-])(\d{2}):?(\d{2})$/.exec(s);
      return !offset || Number(offset[2]) * 60 + Number(offset[3]) <= PG_MAX_OFFSET_MIN;
    },
    { message: 'must be a time whose offset is within ±15:59' },
  )
  .openapi({ pattern: '(?:[Zz]|[+-](?:0[0-9]|1[0-5]):?[0-5][0-9])$' });
const errorBody = z.object({
  message: z.string(),
  detail: z.string().optional(),
  validations: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
});
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const noContent = { 204: { description: 'Stored.' } } as const;
const errors = {
  400: json(errorBody, 'Invalid report.'),
  401: json(errorBody, 'Unknown agent token, or the agent is not part of the latest build.'),
} as const;

const lifecycleBody = z.object({
  state: z.enum(AGENT_LIFECYCLES),
  changed_at: rfc3339.optional(),
  /** beyond Coder: why the agent failed to start (kept for start_error) */
  reason: z.string().max(4096).optional(),
});
const appHealthBody = z.object({
  // (the key rule repeated for the document, whose generator does not carry a record's key schema)
  healths: z.record(uuidLike, z.enum(['healthy', 'unhealthy', 'initializing'])).meta({ propertyNames: { pattern: UUID_LIKE.source } }),
});
// Go decodes missing fields to "" and leaves validation to the handler, whose messages are exact
const appStatusBody = z
  .object({
    app_slug: z.string().default(''),
    // the document names the states the handler accepts (else 400 "Invalid state provided.")
    state: z.string().default('').openapi({ enum: ['complete', 'failure', 'working', 'idle'] }),
    message: z.string().default(''),
    uri: z.string().default(''),
    icon: z.string().optional(),
    needs_user_attention: z.boolean().optional(),
  })
  .openapi({ required: ['state'] });
const appStatusResponse = z.object({
  id: z.string(),
  created_at: z.string(),
  workspace_id: z.string(),
  agent_id: z.string(),
  app_id: z.string(),
  state: z.string(),
  message: z.string(),
  uri: z.string(),
});
const messagesBody = z.object({
  messages: z
    .array(
      z.object({
        // task_messages.message_id is a PostgreSQL integer: a larger id was a 500
        id: z.number().int().min(0).max(2 ** 31 - 1),
        role: z.enum(['user', 'agent']),
        // relayed output: NUL and lone surrogates are replaced, not refused (api/openapi.ts leaves it be)
        content: z.string().transform(replaceNul).openapi({ 'x-taskd-nul': 'replaced' }),
        time: rfc3339,
      }),
    )
    .max(1000),
});

const routes = {
  manifest: createRoute({
    method: 'get',
    path: '/workspaceagents/me/manifest',
    tags,
    security,
    middleware: [requireAgent] as const,
    summary: "The agent's workspace: apps, environment, task prompt",
    responses: {
      200: json(manifestSchema, 'The manifest.'),
      401: errors[401],
      503: json(errorBody, 'The build has not completed yet; ask again shortly.'),
    },
  }),
  lifecycle: createRoute({
    method: 'post',
    path: '/workspaceagents/me/report-lifecycle',
    tags,
    security,
    middleware: [requireAgent] as const,
    summary: 'Report the agent lifecycle state',
    request: { body: { content: { 'application/json': { schema: lifecycleBody } }, required: true } },
    responses: { ...noContent, ...errors },
  }),
  appHealth: createRoute({
    method: 'post',
    path: '/workspaceagents/me/app-health',
    tags,
    security,
    middleware: [requireAgent] as const,
    summary: "Report the health of the agent's apps",
    request: { body: { content: { 'application/json': { schema: appHealthBody } }, required: true } },
    responses: { ...noContent, ...errors },
  }),
  appStatus: createRoute({
    method: 'patch',
    path: '/workspaceagents/me/app-status',
    tags,
    security,
    middleware: [requireAgent] as const,
    summary: "Report what an app (the AI agent) is doing: feeds the task's current_state",
    request: { body: { content: { 'application/json': { schema: appStatusBody } }, required: true } },
    responses: { 200: json(appStatusResponse, 'The stored status.'), ...errors },
  }),
  logSnapshot: createRoute({
    method: 'post',
    path: '/workspaceagents/me/tasks/{task}/log-snapshot',
    tags,
    security,
    middleware: [requireAgent] as const,
    summary: "Upload the task's conversation snapshot (body: AgentAPI GET /messages, at most 64 KiB)",
    description:
      'The body is read only after the task is found: {"messages":[{id,content,role,time}]}. The format query parameter must be "agentapi".',
    request: {
      params: z.object({ task: z.string() }),
      // checked by the handler in Coder's order and words; the document says what it takes
      query: z.object({ format: z.string().optional().openapi({ enum: ['agentapi'], param: { required: true } }) }),
    },
    responses: { ...noContent, ...errors, 404: json(errorBody, 'No such task in this workspace.') },
  }),
  messages: createRoute({
    method: 'post',
    path: '/workspaceagents/me/tasks/{task}/messages',
    tags,
    security,
    middleware: [requireAgent] as const,
    summary: "Store AI app messages as they arrive (beyond Coder: a paused task keeps its whole conversation)",
    request: {
      params: z.object({ task: z.string() }),
      body: { content: { 'application/json': { schema: messagesBody } }, required: true },
    },
    responses: { ...noContent, ...errors, 404: json(errorBody, 'No such task in this workspace.') },
  }),
};

export function registerAgentRoutes(api: ApiApp, deps: AppDeps): void {
  const signal = (c: Context<AppEnv>, report: AgentReport, relevant: boolean) =>
    signalAgentReport({ temporal: deps.temporal, em: c.get('em'), log: c.get('log') }, c.get('agent').workspaceId, report, relevant);

  api.openapi(routes.manifest, async (c) => c.json(await loadManifest(c.get('em'), c.get('agent')), 200));

  api.openapi(routes.lifecycle, async (c) => {
    const agent = c.get('agent');
    const body = c.req.valid('json');
    const changedAt = body.changed_at ?? new Date().toISOString();
    const moved = await movesTaskStatus(c.get('em'), agent.agentId, (tx) =>
      storeLifecycle(tx, agent, { state: body.state, changed_at: changedAt, reason: body.reason }),
    );
    await signal(c, { kind: 'lifecycle', agentId: agent.agentId, buildNumber: agent.buildNumber, state: body.state }, moved);
    return c.body(null, 204);
  });

  api.openapi(routes.appHealth, async (c) => {
    const agent = c.get('agent');
    const healths = Object.fromEntries(Object.entries(c.req.valid('json').healths).map(([id, h]) => [id.toLowerCase(), h]));
    const moved = await movesTaskStatus(c.get('em'), agent.agentId, (tx) => storeAppHealth(tx, agent, healths));
    await signal(c, { kind: 'app_health', agentId: agent.agentId, buildNumber: agent.buildNumber, healths }, moved);
    return c.body(null, 204);
  });

  api.openapi(routes.appStatus, async (c) => {
    const agent = c.get('agent');
    const status = await recordAppStatus(c.get('em'), c.get('log'), agent, c.req.valid('json'));
    // only a status that proves the agent busy moves the auto-pause deadline (§4.2)
    const bumps = shouldBumpActivity(status.previous, status.state);
    await signal(c, { kind: 'app_status', agentId: agent.agentId, buildNumber: agent.buildNumber, appId: status.appId, state: status.state }, bumps);
    await wakeQueueOnIdle({ temporal: deps.temporal, em: c.get('em'), log: c.get('log') }, agent.workspaceId, status.state);
    return c.json(
      {
        id: status.id,
        created_at: status.createdAt,
        workspace_id: agent.workspaceId,
        agent_id: agent.agentId,
        app_id: status.appId,
        state: status.state,
        message: status.message,
        uri: status.uri ?? '',
      },
      200,
    );
  });

  api.openapi(routes.logSnapshot, async (c) => {
    // spec §4.1, in this order: task id, query, task (before the body), body. An answer given with
    // the body (partly) unread ends the connection, or a client reusing it would send into garbage.
    c.header('Connection', 'close');
    const taskId = parseTaskParam(c.req.param('task'));
    checkSnapshotQuery(c.req.url);
    const task = await loadAgentTask(c.get('em'), c.get('agent'), taskId);
    const body = await readCappedBody(c.req.raw, SNAPSHOT_BODY_LIMIT).catch(() => null);
    if (body === null) throw new ApiError(400, 'Failed to decode request payload.');
    c.header('Connection', undefined);
    await storeSnapshot(c.get('em'), task.id, decodeSnapshotBody(body)).catch((err: unknown) => {
      throw err instanceof ApiError || dependencyDown(err) ? err : withCause(new ApiError(500, 'Internal error storing snapshot.', INTERNAL_DETAIL), err);
    });
    return c.body(null, 204);
  });

  api.openapi(routes.messages, async (c) => {
    const taskId = parseTaskParam(c.req.param('task'));
    const task = await loadAgentTask(c.get('em'), c.get('agent'), taskId);
    if (!(await storeMessages(c.get('em'), task.id, c.req.valid('json').messages))) {
      throw new ApiError(400, 'Message id out of range.', 'The task holds as many messages as it can; no later id can be stored.', [
        { field: 'messages', detail: 'id out of range' },
      ]);
    }
    return c.body(null, 204);
  });
}
