import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import { readableOrganization } from '../../db/organizations';
import { createTemplateWithVersion, listTemplates, readableTemplate, templateByName, templateRelations } from '../../db/templates';
import { auditedTransaction } from '../audit';
import { TemplateSchema, toTemplates } from '../dto/templates';
import { SESSION_SECURITY, errorResponses, jsonBody, jsonContent } from '../dto/common';
import {
  AI_TASK_APP_400,
  UNIQUE_DETAIL,
  parseTemplateQuery,
  presetsSchema,
  templateDisplayNameSchema,
  templateNameSchema,
  versionNameSchema,
} from '../template-input';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';
import type { ITemplate } from '../../db/entities';
import type { EntityManager } from '@mikro-orm/postgresql';

// Templates: taskd's WorkspaceDefinition in, Coder's Template shape out. Reading needs membership
// of the template's organization; creating needs organization admin (or site owner).

const auth = { security: SESSION_SECURITY, middleware: requireUser };
const orgParam = z.object({ organization: z.string().min(1).openapi({ param: { name: 'organization', in: 'path' } }) });
const templateParam = z.object({ template: z.string().min(1).openapi({ param: { name: 'template', in: 'path' } }) });

const createTemplateBody = z
  .object({
    name: templateNameSchema,
    display_name: templateDisplayNameSchema.optional(),
    description: z.string().max(128, 'must be < 128 characters').optional(),
    icon: z.string().max(255).optional(),
    workspace: workspaceDefinitionSchema,
    presets: presetsSchema.optional(),
    /** name of the first version (default "v1") */
    version_name: versionNameSchema.optional(),
    message: z.string().max(1_048_576).optional(),
  })
  .openapi('CreateTemplateRequest');

async function templatesJson(em: EntityManager, templates: ITemplate[]) {
  return toTemplates(templates, await templateRelations(em, templates));
}

export function registerTemplateRoutes(api: ApiApp, _deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/organizations/{organization}/templates',
      tags: ['Templates'],
      summary: 'Create a template and its first (active) version',
      description: AI_TASK_APP_400,
      ...auth,
      request: { params: orgParam, body: jsonBody(createTemplateBody) },
      responses: { 201: jsonContent(TemplateSchema, 'Created'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableOrganization(em, c.get('actor'), c.req.valid('param').organization);
      if (!found) throw notFound();
      if (found.role !== 'admin') throw new ApiError(403, 'Forbidden.', 'Only organization admins can create templates.');
      const body = c.req.valid('json');
      const template = await auditedTransaction(c, async (tx) => {
        const created = await createTemplateWithVersion(tx, {
          organizationId: found.org.id,
          templateName: body.name,
          displayName: body.display_name,
          description: body.description,
          icon: body.icon,
          definition: body.workspace,
          presets: body.presets,
          name: body.version_name,
          message: body.message,
          createdBy: c.get('actor').userId,
        });
        if (!created) {
          throw new ApiError(409, `Template with name "${body.name}" already exists.`, undefined, [{ field: 'name', detail: UNIQUE_DETAIL }]);
        }
        const { template, version } = created;
        return {
          result: template,
          audit: {
            action: 'create',
            resourceType: 'template',
            resourceId: template.id,
            resourceTarget: template.name,
            organizationId: template.organization,
            diff: { name: template.name, active_version_id: version.id, has_ai_task: version.hasAiTask },
            statusCode: 201,
          },
        };
      });
      return c.json((await templatesJson(em, [template]))[0], 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/organizations/{organization}/templates',
      tags: ['Templates'],
      summary: "An organization's templates",
      ...auth,
      request: { params: orgParam },
      responses: { 200: jsonContent(z.array(TemplateSchema), 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableOrganization(em, c.get('actor'), c.req.valid('param').organization);
      if (!found) throw notFound();
      const templates = await listTemplates(em, c.get('actor'), { orgIds: [found.org.id] });
      return c.json(await templatesJson(em, templates), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/organizations/{organization}/templates/{templatename}',
      tags: ['Templates'],
      summary: 'A template by organization and name',
      ...auth,
      request: { params: orgParam.extend({ templatename: z.string().min(1).openapi({ param: { name: 'templatename', in: 'path' } }) }) },
      responses: { 200: jsonContent(TemplateSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const params = c.req.valid('param');
      const found = await readableOrganization(em, c.get('actor'), params.organization);
      if (!found) throw notFound();
      const template = await templateByName(em, found.org.id, params.templatename);
      if (!template) throw notFound();
      return c.json((await templatesJson(em, [template]))[0], 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/templates',
      tags: ['Templates'],
      summary: 'Templates visible to the caller, filtered by q (organization, exact_name, name, has-ai-task, deprecated)',
      ...auth,
      request: {
        query: z.object({
          q: z.string().optional().openapi({
            description: 'Search query, e.g. exact_name:claude. As in Coder, an unknown or malformed term is 400 "Invalid template search query."',
          }),
        }),
      },
      responses: { 200: jsonContent(z.array(TemplateSchema), 'OK'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const em = c.get('em');
      const actor = c.get('actor');
      const query = parseTemplateQuery(c.req.valid('query').q);
      let orgIds: string[] | undefined;
      if (query.organization !== undefined) {
        const found = await readableOrganization(em, actor, query.organization);
        if (!found) {
          throw new ApiError(400, 'Invalid template search query.', undefined, [
            {
              field: 'organization',
              detail: `Query param "organization" has invalid value: organization "${query.organization}" either does not exist, or you are unauthorized to view it`,
            },
          ]);
        }
        orgIds = [found.org.id];
      }
      if (query.deprecated === true) return c.json([], 200); // taskd has no deprecated templates
      const templates = await listTemplates(em, actor, {
        orgIds,
        exactName: query.exactName,
        fuzzyName: query.fuzzyName,
        hasAiTask: query.hasAiTask,
      });
      return c.json(await templatesJson(em, templates), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/templates/{template}',
      tags: ['Templates'],
      summary: 'A template by id',
      ...auth,
      request: { params: templateParam },
      responses: { 200: jsonContent(TemplateSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const found = await readableTemplate(c.get('em'), c.get('actor'), c.req.valid('param').template);
      if (!found) throw notFound();
      return c.json((await templatesJson(c.get('em'), [found.template]))[0], 200);
    },
  );
}
