import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import { SESSION_SECURITY, errorResponses, jsonContent, uuidPathParam } from '../dto/common';
import { visibleBuild } from '../workspaces/lookup';
import { readableTemplateVersion } from '../../db/templates';

// Coder's template parameters and external-auth providers, which taskd templates do not have.
// Coder's CLI asks for them on every `coder start` (the classic parameter flow the templates
// report), so the truthful answer — none — must be there, for what the caller may see.

const none = (what: string) => jsonContent(z.array(z.unknown()).max(0), `${what}: always empty in taskd`);
const versionParam = z.object({
  templateversion: z.string().min(1).openapi({ param: { name: 'templateversion', in: 'path' } }),
});
const buildParam = z.object({
  workspacebuild: uuidPathParam('workspacebuild', 'Workspace build id'),
});

export function registerParameterRoutes(api: ApiApp, _deps: AppDeps): void {
  for (const [suffix, what] of [
    ['rich-parameters', 'Template version parameters'],
    ['external-auth', 'External auth providers the template version needs'],
  ] as const) {
    api.openapi(
      createRoute({
        method: 'get',
        path: `/templateversions/{templateversion}/${suffix}`,
        tags: ['Templates'],
        summary: `${what} (taskd templates have none)`,
        security: SESSION_SECURITY,
        middleware: [requireUser] as const,
        request: { params: versionParam },
        responses: { 200: none(what), ...errorResponses(401, 404) },
      }),
      async (c) => {
        if (!(await readableTemplateVersion(c.get('em'), c.get('actor'), c.req.valid('param').templateversion))) throw notFound();
        return c.json([], 200);
      },
    );
  }

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspacebuilds/{workspacebuild}/parameters',
      tags: ['Workspaces'],
      summary: "A build's parameter values (taskd templates have none)",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: buildParam },
      responses: { 200: none('Build parameters'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      await visibleBuild(c.get('em'), c.get('actor'), c.req.valid('param').workspacebuild);
      return c.json([], 200);
    },
  );
}
