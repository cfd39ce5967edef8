import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import {
  addTemplateVersion,
  presetsOf,
  readableTemplate,
  readableTemplateVersion,
  setActiveVersion,
  templateByName,
  templateVersionByName,
  templateVersionExists,
  templateVersionOf,
  templateVersions,
  versionRelations,
} from '../../db/templates';
import type { ITemplate, ITemplateVersion } from '../../db/entities';
import { readableOrganization } from '../../db/organizations';
import type { OrgRole } from '../../db/scope';
import { goQuote } from '../../domain/go-text';
import type { EntityManager } from '@mikro-orm/postgresql';
import { auditedTransaction } from '../audit';
import { PresetSchema, TemplateVersionSchema, toPreset, toTemplateVersions } from '../dto/templates';
import { ErrorSchema, SESSION_SECURITY, errorResponses, jsonBody, jsonContent } from '../dto/common';
import { AI_TASK_APP_400, UNIQUE_DETAIL, presetsSchema, versionNameSchema } from '../template-input';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';

// Template versions: immutable snapshots of a WorkspaceDefinition (+ presets); one of them is the
// template's active version. Readable by members of the organization, created by its admins.

const auth = { security: SESSION_SECURITY, middleware: requireUser };
const templateParam = z.object({ template: z.string().min(1).openapi({ param: { name: 'template', in: 'path' } }) });
const versionParam = z.object({
  templateversion: z.string().min(1).openapi({ param: { name: 'templateversion', in: 'path' } }),
});

const createVersionBody = z
  .object({
    workspace: workspaceDefinitionSchema,
    presets: presetsSchema.optional(),
    /** make this the template's active version (default true) */
    activate: z.boolean().optional(),
    name: versionNameSchema.optional(),
    message: z.string().max(1_048_576).optional(),
  })
  .openapi('CreateTemplateVersionRequest');

const versionNameParam = z.string().min(1).openapi({ param: { name: 'templateversionname', in: 'path' } });

async function versionsJson(em: EntityManager, versions: ITemplateVersion[], withDefinition: boolean) {
  return toTemplateVersions(versions, await versionRelations(em, versions), { withDefinition });
}

/** A template's version by name as Coder answers it: its own 404 message names the version. */
async function versionByName(em: EntityManager, found: { template: ITemplate; role: OrgRole }, name: string) {
  const version = await templateVersionByName(em, found.template.id, name);
  if (!version) throw new ApiError(404, `No template version found by name ${goQuote(name)}.`);
  return (await versionsJson(em, [version], found.role === 'admin'))[0];
}

export function registerTemplateVersionRoutes(api: ApiApp, _deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/templates/{template}/versions',
      tags: ['Templates'],
      summary: 'Add a version to a template (active by default)',
      description: AI_TASK_APP_400,
      ...auth,
      request: { params: templateParam, body: jsonBody(createVersionBody) },
      responses: { 201: jsonContent(TemplateVersionSchema, 'Created'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableTemplate(em, c.get('actor'), c.req.valid('param').template);
      if (!found) throw notFound();
      if (found.role !== 'admin') throw new ApiError(403, 'Forbidden.', 'Only organization admins can change templates.');
      const body = c.req.valid('json');
      const version = await auditedTransaction(c, async (tx) => {
        const added = await addTemplateVersion(tx, found.template, {
          definition: body.workspace,
          presets: body.presets,
          name: body.name,
          message: body.message,
          activate: body.activate ?? true,
          createdBy: c.get('actor').userId,
        });
        if ('taken' in added) {
          throw new ApiError(409, `A template version named "${added.taken}" already exists.`, undefined, [{ field: 'name', detail: UNIQUE_DETAIL }]);
        }
        const { version } = added;
        return {
          result: version,
          audit: {
            action: 'create',
            resourceType: 'template_version',
            resourceId: version.id,
            resourceTarget: `${found.template.name}/${version.name}`,
            organizationId: version.organization,
            diff: { template_id: found.template.id, activated: body.activate ?? true, has_ai_task: version.hasAiTask },
            statusCode: 201,
          },
        };
      });
      return c.json((await versionsJson(em, [version], true))[0], 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'patch',
      path: '/templates/{template}/versions',
      tags: ['Templates'],
      summary: "Change the template's active version",
      ...auth,
      request: { params: templateParam, body: jsonBody(z.object({ id: z.string().uuid() }).openapi('UpdateActiveTemplateVersion')) },
      responses: { 200: jsonContent(ErrorSchema, 'Updated'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableTemplate(em, c.get('actor'), c.req.valid('param').template);
      if (!found) throw notFound();
      if (found.role !== 'admin') throw new ApiError(403, 'Forbidden.', 'Only organization admins can change templates.');
      const { id } = c.req.valid('json');
      const version = await templateVersionOf(em, found.template.id, id);
      // as Coder: an unknown version is not found; another template's version is a bad request
      if (!version && !(await templateVersionExists(em, id))) throw new ApiError(404, 'Template version not found.');
      if (!version) {
        throw new ApiError(400, 'The template version must belong to the template.', undefined, [
          { field: 'id', detail: 'not a version of this template' },
        ]);
      }
      const before = found.template.activeVersionId;
      await auditedTransaction(c, async (tx) => {
        await setActiveVersion(tx, found.template.id, version.id);
        return {
          result: null,
          audit: {
            action: 'write',
            resourceType: 'template',
            resourceId: found.template.id,
            resourceTarget: found.template.name,
            organizationId: found.template.organization,
            diff: { active_version_id: { old: before, new: version.id } },
            statusCode: 200,
          },
        };
      });
      return c.json({ message: 'Updated the active template version!' }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/templates/{template}/versions',
      tags: ['Templates'],
      summary: "A template's versions, oldest first",
      ...auth,
      request: { params: templateParam },
      responses: { 200: jsonContent(z.array(TemplateVersionSchema), 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableTemplate(em, c.get('actor'), c.req.valid('param').template);
      if (!found) throw notFound();
      const versions = await templateVersions(em, found.template.id);
      return c.json(await versionsJson(em, versions, found.role === 'admin'), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/templates/{template}/versions/{templateversionname}',
      tags: ['Templates'],
      summary: 'A template version by name',
      ...auth,
      request: { params: templateParam.extend({ templateversionname: versionNameParam }) },
      responses: { 200: jsonContent(TemplateVersionSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const params = c.req.valid('param');
      const found = await readableTemplate(em, c.get('actor'), params.template);
      if (!found) throw notFound();
      return c.json(await versionByName(em, found, params.templateversionname), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/organizations/{organization}/templates/{templatename}/versions/{templateversionname}',
      tags: ['Templates'],
      summary: 'A template version by organization, template name and version name',
      ...auth,
      request: {
        params: z.object({
          organization: z.string().min(1).openapi({ param: { name: 'organization', in: 'path' } }),
          templatename: z.string().min(1).openapi({ param: { name: 'templatename', in: 'path' } }),
          templateversionname: versionNameParam,
        }),
      },
      responses: { 200: jsonContent(TemplateVersionSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const params = c.req.valid('param');
      const org = await readableOrganization(em, c.get('actor'), params.organization);
      if (!org) throw notFound();
      const template = await templateByName(em, org.org.id, params.templatename);
      if (!template) throw notFound();
      return c.json(await versionByName(em, { template, role: org.role }, params.templateversionname), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/templateversions/{templateversion}',
      tags: ['Templates'],
      summary: 'A template version by id (with has_ai_task and presets)',
      ...auth,
      request: { params: versionParam },
      responses: { 200: jsonContent(TemplateVersionSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableTemplateVersion(em, c.get('actor'), c.req.valid('param').templateversion);
      if (!found) throw notFound();
      return c.json((await versionsJson(em, [found.version], found.role === 'admin'))[0], 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/templateversions/{templateversion}/presets',
      tags: ['Templates'],
      summary: "A template version's presets",
      ...auth,
      request: { params: versionParam },
      responses: { 200: jsonContent(z.array(PresetSchema), 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableTemplateVersion(em, c.get('actor'), c.req.valid('param').templateversion);
      if (!found) throw notFound();
      const presets = await presetsOf(em, [found.version.id]);
      return c.json(presets.map(toPreset), 200);
    },
  );
}
