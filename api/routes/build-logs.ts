import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { ApiError } from '../errors';
import { requireUser } from '../middleware/auth';
import { SESSION_SECURITY, errorResponses, uuidPathParam } from '../dto/common';
import { orInternal } from '../tasks/internal';
import { visibleBuild } from '../workspaces/lookup';
import { buildLogJson, followBuildLog } from '../workspaces/log-follow';
import type { UpgradeEnv } from '../websocket-upgrade';
import { buildLogs } from '../../db/build-logs';

// GET /workspacebuilds/{id}/logs: what the build did, line by line (Coder's provisioner job logs).
// Without `follow` a JSON list (or text with format=text) of the lines after `after` / before
// `before`; with `follow`, a WebSocket that sends each line as a JSON message and closes normally
// once the build has ended — what codersdk's WorkspaceBuildLogsAfter and the CLI's build follower
// read. A build the caller may not see is 404 either way.

const buildLogSchema = z
  .object({
    id: z.number().int(),
    created_at: z.string(),
    log_source: z.enum(['provisioner_daemon', 'provisioner']),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    stage: z.string(),
    output: z.string(),
  })
  .openapi('ProvisionerJobLog');

function int64(raw: string | undefined, field: string): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new ApiError(400, `Query param "${field}" must be an integer.`, undefined, [{ field, detail: 'Must be an integer' }]);
  }
  return Number(raw);
}

export function registerBuildLogRoutes(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspacebuilds/{workspacebuild}/logs',
      tags: ['Workspaces'],
      summary: "A build's log; with follow, a WebSocket that streams it until the build ends",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: {
        params: z.object({
          workspacebuild: uuidPathParam('workspacebuild', 'Workspace build id'),
        }),
        query: z.object({
          after: z.string().optional().openapi({ description: 'Only lines with a greater id', pattern: '^-?[0-9]{0,15}$' }),
          before: z.string().optional().openapi({ description: 'Only lines with a smaller id', pattern: '^-?[0-9]{0,15}$' }),
          follow: z.string().optional().openapi({ description: 'Present: upgrade to a WebSocket and stream the lines' }),
          format: z.enum(['json', 'text']).optional(),
        }),
      },
      description:
        'Coder\'s rules across parameters, each a 400: `follow` with `format=text` ("Text format is not supported with ' +
        'follow mode."), and `follow` without a WebSocket upgrade ("Failed to accept websocket.").',
      responses: {
        200: {
          description: 'Log lines, oldest first: JSON, or with format=text one line of text each',
          content: { 'application/json': { schema: z.array(buildLogSchema) }, 'text/plain': { schema: z.string() } },
        },
        101: { description: 'With follow: the WebSocket that streams the lines, one JSON ProvisionerJobLog per message' },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const follow = c.req.query('follow') !== undefined;
      if (follow && query.format === 'text') {
        throw new ApiError(400, 'Text format is not supported with follow mode.', 'Use format=json or omit the follow parameter.');
      }
      const after = int64(query.after, 'after');
      const before = int64(query.before, 'before');
      const build = await visibleBuild(c.get('em'), c.get('actor'), c.req.valid('param').workspacebuild);
      if (follow) {
        const slot = (c.env as Partial<UpgradeEnv> | undefined)?.upgrade;
        if (!slot || c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
          throw new ApiError(400, 'Failed to accept websocket.', 'follow streams the log over a WebSocket: send an Upgrade request');
        }
        slot.accept = (ws) => void followBuildLog(ws, deps, build.id, after);
        return c.json([], 200);
      }
      const lines = await orInternal('Internal error fetching provisioner logs.', () => buildLogs(c.get('em'), build.id, { after, before }));
      if (query.format === 'text') {
        return c.text(lines.map((l) => `${l.createdAt} [${l.level}] ${l.stage}: ${l.output}\n`).join(''), 200) as never;
      }
      return c.json(lines.map(buildLogJson), 200);
    },
  );
}
