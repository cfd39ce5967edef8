import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import { auditWorkflowAction, type PendingEntry } from '../audit';
import { SESSION_SECURITY, errorResponses, jsonBody, jsonContent, uuidPathParam } from '../dto/common';
import { workspaceJson, workspaceSchema } from '../dto/workspace';
import { workspaceBuildJson, workspaceBuildSchema } from '../dto/workspace-build';
import { orInternal } from '../tasks/internal';
import { requestTaskBuild, type BuildOperation } from '../tasks/builds';
import { idempotencyKey } from '../idempotency';
import { listBuilds } from '../../db/workspaces';
import { visibleBuild, visibleWorkspace } from '../workspaces/lookup';
import { parseWorkspacePage, resolveWorkspaceSearch } from '../workspaces/search';
import { resolveOwnerId } from '../tasks/params';
import { getWorkspaceByOwnerAndName, listWorkspaces } from '../../db/workspaces';
import { listScope } from '../../db/scope';
import { taskIdOfWorkspace } from '../../db/tasks';
import { externalAgentCredentials } from '../../lib/agent-token';
import { goQuote } from '../../domain/go-text';
import { goBool } from '../../domain/workspace-search';

// Workspaces and builds in Coder's shapes. Every taskd workspace belongs to a task, so builds
// requested here go through the task's workflow like pause/resume/delete do — deleting a task's
// workspace deletes the task.

const workspaceParam = z.object({
  workspace: uuidPathParam('workspace', 'Workspace id'),
});
const buildParam = z.object({
  workspacebuild: uuidPathParam('workspacebuild', 'Workspace build id'),
});
const credentialsParams = workspaceParam.extend({
  agent: z.string().openapi({ param: { name: 'agent', in: 'path' }, description: 'Agent name' }),
});
const createBuildRequest = z
  .object({
    transition: z.enum(['start', 'stop', 'delete']),
    template_version_id: z.string().optional(),
    /** delete only: the workspace is marked deleted without running its provisioner (what it created stays) */
    orphan: z.boolean().optional(),
  })
  // Coder's rule across two fields, checked by the route: "Orphan is only permitted when deleting a workspace."
  .openapi('CreateWorkspaceBuildRequest', {
    not: { required: ['transition', 'orphan'], properties: { transition: { enum: ['start', 'stop'] }, orphan: { const: true } } },
  });
const credentialsSchema = z
  .object({ agent_token: z.string(), command: z.string() })
  .openapi('ExternalAgentCredentials');

const workspacesResponse = z
  .object({ workspaces: z.array(workspaceSchema), count: z.number().int() })
  .openapi('WorkspacesResponse');
const ownerWorkspaceParams = z.object({
  user: z.string().openapi({ param: { name: 'user', in: 'path' }, description: 'User id, username, or "me"' }),
  workspacename: z.string().openapi({ param: { name: 'workspacename', in: 'path' }, description: 'Workspace name' }),
});

const OPERATIONS: Record<'start' | 'stop' | 'delete', BuildOperation> = { start: 'resume', stop: 'pause', delete: 'delete' };

/** Coder's limit / offset (parseWorkspacePage): digits, where 0 or nothing means all. */
const pageQuery = z.object({
  limit: z.string().optional().openapi({ description: 'Page size; 0 or omitted: all', pattern: '^[0-9]{0,9}$' }),
  offset: z.string().optional().openapi({ description: 'How many to skip', pattern: '^[0-9]{0,9}$' }),
});

export function registerWorkspaceRoutes(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspaces',
      tags: ['Workspaces'],
      summary: "List the workspaces the caller can see, with Coder's search query",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: {
        query: pageQuery.extend({
          q: z.string().optional().openapi({
            description: 'Search query, e.g. owner:me status:running template:claude has-ai-task:true, or a name (owner/name)',
          }),
        }),
      },
      responses: { 200: jsonContent(workspacesResponse, 'Workspaces and the count of all matches'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = parseWorkspacePage(query);
      const em = c.get('em');
      const filters = await resolveWorkspaceSearch(em, c.get('actor'), query.q ?? '');
      const scope = await listScope(em, c.get('actor'));
      const { records, total } = await orInternal('Internal error fetching workspaces.', () => listWorkspaces(em, scope, filters, page));
      return c.json({ workspaces: records.map(workspaceJson), count: total }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users/{user}/workspace/{workspacename}',
      tags: ['Workspaces'],
      summary: "A user's workspace by name",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: {
        params: ownerWorkspaceParams,
        query: z.object({
          include_deleted: z
            .string()
            .optional()
            .openapi({ description: 'true: a deleted workspace of that name too', enum: ['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F', ''] }),
        }),
      },
      responses: { 200: jsonContent(workspaceSchema, 'The workspace'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const params = c.req.valid('param');
      const raw = c.req.valid('query').include_deleted;
      const includeDeleted = raw === undefined || raw === '' ? false : goBool(raw);
      if (includeDeleted === undefined) {
        throw new ApiError(400, `Invalid boolean value ${goQuote(raw ?? '')} for "include_deleted" query param.`, undefined, [
          { field: 'include_deleted', detail: 'Must be a valid boolean' },
        ]);
      }
      const em = c.get('em');
      const actor = c.get('actor');
      const ownerId = await resolveOwnerId(em, actor, params.user);
      const workspace = await orInternal('Internal error fetching workspace by name.', () =>
        getWorkspaceByOwnerAndName(em, actor, ownerId, params.workspacename, includeDeleted),
      );
      if (!workspace || !workspace.latestBuild) throw notFound();
      return c.json(workspaceJson(workspace), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspaces/{workspace}',
      tags: ['Workspaces'],
      summary: 'Get a workspace with its latest build',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: {
        params: workspaceParam,
        query: z.object({ include_deleted: z.enum(['true', 'false']).optional() }),
      },
      responses: { 200: jsonContent(workspaceSchema, 'The workspace'), ...errorResponses(400, 401, 404, 410) },
    }),
    async (c) => {
      const workspace = await visibleWorkspace(c.get('em'), c.get('actor'), c.req.valid('param').workspace);
      if (workspace.deleted && c.req.valid('query').include_deleted !== 'true') {
        throw new ApiError(
          410,
          `Workspace "${workspace.id}" was deleted, you can view this workspace by specifying 'include_deleted=true' and trying again.`,
        );
      }
      return c.json(workspaceJson(workspace), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspacebuilds/{workspacebuild}',
      tags: ['Workspaces'],
      summary: 'Get a workspace build',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: buildParam },
      responses: { 200: jsonContent(workspaceBuildSchema, 'The build'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const build = await visibleBuild(c.get('em'), c.get('actor'), c.req.valid('param').workspacebuild);
      return c.json(workspaceBuildJson(build), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspaces/{workspace}/builds',
      tags: ['Workspaces'],
      summary: "A workspace's builds, newest first",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: {
        params: workspaceParam,
        // Coder's pagination parser, as the workspace list's (an empty value is not given), where
        // zod's number coercion took "", " 5", "0x10" and "1e2"
        query: pageQuery,
      },
      responses: { 200: jsonContent(z.array(workspaceBuildSchema), 'Builds'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const workspace = await visibleWorkspace(c.get('em'), c.get('actor'), c.req.valid('param').workspace);
      const { limit, offset } = parseWorkspacePage(c.req.valid('query'));
      const builds = await orInternal('Internal error fetching workspace builds.', () =>
        listBuilds(c.get('em'), c.get('actor'), workspace.id, { limit: limit || undefined, offset }),
      );
      return c.json(builds.map(workspaceBuildJson), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/workspaces/{workspace}/builds',
      tags: ['Workspaces'],
      summary: 'Start, stop or delete a workspace (through its task)',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: workspaceParam, body: jsonBody(createBuildRequest) },
      responses: { 201: jsonContent(workspaceBuildSchema, 'The new build'), ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const workspace = await visibleWorkspace(c.get('em'), c.get('actor'), c.req.valid('param').workspace);
      const { transition, orphan } = c.req.valid('json');
      if (orphan && transition !== 'delete') throw new ApiError(400, 'Orphan is only permitted when deleting a workspace.');
      const em = c.get('em');
      const entry: PendingEntry = {
        action: transition,
        resourceType: 'workspace',
        resourceId: workspace.id,
        resourceTarget: workspace.name,
        organizationId: workspace.organizationId,
      };
      // audited like the task routes' builds: the row is committed before the workflow is asked
      return auditWorkflowAction(c, entry, async (accept) => {
        // The workspace's task, deleted or not: a failed delete must stay retryable.
        const taskId = await taskIdOfWorkspace(em, workspace.id);
        if (!taskId) throw new ApiError(400, 'Workspace has no task.', 'taskd builds workspaces only through their tasks.');
        await accept([entry]);
        const { build } = await requestTaskBuild(deps, em, {
          taskId,
          operation: OPERATIONS[transition],
          actor: c.get('actor'),
          requestId: c.get('requestId'),
          idempotencyKey: idempotencyKey(c),
          orphan,
          viaWorkspace: true,
        });
        if (!build) throw notFound();
        return [c.json(workspaceBuildJson(build), 201), 201];
      });
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspaces/{workspace}/external-agent/{agent}/credentials',
      tags: ['Workspaces'],
      summary: 'Credentials to run the agent of an external workspace anywhere',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: credentialsParams },
      responses: { 200: jsonContent(credentialsSchema, 'Agent credentials'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const params = c.req.valid('param');
      const workspace = await visibleWorkspace(c.get('em'), c.get('actor'), params.workspace);
      const actor = c.get('actor');
      // The token lets its holder act as the workspace's agent: owner (or site owner) only.
      if (workspace.ownerId !== actor.userId && !actor.isSiteOwner) throw notFound();
      const build = workspace.latestBuild;
      if (!build || build.provisioner !== 'external') {
        throw new ApiError(
          400,
          'Workspace does not have an external agent.',
          'Only workspaces of templates with the "external" provisioner have agent credentials.',
        );
      }
      const agent = build.agents.find((a) => a.name === params.agent);
      if (!agent) throw notFound();
      return c.json(await externalAgentCredentials(c.get('em'), { agentId: agent.id, accessUrl: deps.config.http.accessUrl }), 200);
    },
  );
}
