import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Organization, User } from './accounts';
import { Template, TemplateVersion, TemplateVersionPreset } from './templates';

export const Workspace = defineEntity({
  name: 'Workspace',
  tableName: 'workspaces',
  properties: {
    id: p.uuid().primary(),
    organization: p.manyToOne(Organization).mapToPk().deleteRule('cascade'),
    owner: p.manyToOne(User).mapToPk().deleteRule('cascade').index(),
    template: p.manyToOne(Template).mapToPk(),
    name: p.string(),
    // the worker host whose process driver holds this workspace (null until first start)
    hostId: p.string().nullable(),
    deleted: p.boolean().default(false),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  uniques: [
    {
      name: 'workspaces_owner_name_key',
      expression:
        'create unique index "workspaces_owner_name_key" on "workspaces" ("owner_id", lower("name")) where not "deleted"',
    },
  ],
});
export type IWorkspace = InferEntity<typeof Workspace>;

export const WorkspaceBuild = defineEntity({
  name: 'WorkspaceBuild',
  tableName: 'workspace_builds',
  properties: {
    id: p.uuid().primary(),
    workspace: p.manyToOne(Workspace).mapToPk().deleteRule('cascade'),
    buildNumber: p.integer(),
    transition: p.string(), // start | stop | delete
    reason: p.string(), // initiator | task_manual_pause | task_resume | task_auto_pause | free text
    templateVersion: p.manyToOne(TemplateVersion).mapToPk(),
    templateVersionPreset: p.manyToOne(TemplateVersionPreset).mapToPk().nullable().deleteRule('set null'),
    initiator: p.manyToOne(User).mapToPk(),
    jobId: p.uuid(),
    jobStatus: p.string(), // pending | running | succeeded | failed | canceling | canceled
    jobError: p.text().nullable(),
    jobStartedAt: p.datetime().nullable(),
    jobCompletedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  // the business key that makes "exactly one build per transition" enforceable under retries
  uniques: [{ properties: ['workspace', 'buildNumber'] }],
});
export type IWorkspaceBuild = InferEntity<typeof WorkspaceBuild>;

// What a build did, line by line, as Coder's provisioner job logs: written by the build's
// activities while it runs, read (and followed) through GET /workspacebuilds/{id}/logs.
export const WorkspaceBuildLog = defineEntity({
  name: 'WorkspaceBuildLog',
  tableName: 'workspace_build_logs',
  properties: {
    id: p.bigint().primary().autoincrement(),
    build: p.manyToOne(WorkspaceBuild).mapToPk().deleteRule('cascade'),
    createdAt: p.datetime().defaultRaw('now()'),
    level: p.string(), // trace | debug | info | warn | error
    stage: p.string(),
    output: p.text(),
  },
  indexes: [{ properties: ['build', 'id'] }],
});
export type IWorkspaceBuildLog = InferEntity<typeof WorkspaceBuildLog>;

export const WorkspaceAgent = defineEntity({
  name: 'WorkspaceAgent',
  tableName: 'workspace_agents',
  properties: {
    id: p.uuid().primary(),
    build: p.manyToOne(WorkspaceBuild).mapToPk().deleteRule('cascade').index(),
    name: p.string(),
    lifecycleState: p.string().default('created'),
    lifecycleChangedAt: p.datetime().nullable(),
    startError: p.text().nullable(),
    authTokenHash: p.string().unique(),
    firstConnectedAt: p.datetime().nullable(),
    lastConnectedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type IWorkspaceAgent = InferEntity<typeof WorkspaceAgent>;

export const WorkspaceApp = defineEntity({
  name: 'WorkspaceApp',
  tableName: 'workspace_apps',
  properties: {
    id: p.uuid().primary(),
    agent: p.manyToOne(WorkspaceAgent).mapToPk().deleteRule('cascade').index(),
    slug: p.string(),
    displayName: p.string().default(''),
    command: p.text().nullable(),
    url: p.text().default(''),
    // disabled (no healthcheck) | initializing | healthy | unhealthy
    health: p.string().default('disabled'),
    healthcheck: p.json<{ url: string; interval_s: number; threshold: number } | null>().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  uniques: [{ properties: ['agent', 'slug'] }],
});
export type IWorkspaceApp = InferEntity<typeof WorkspaceApp>;

export const WorkspaceAppStatus = defineEntity({
  name: 'WorkspaceAppStatus',
  tableName: 'workspace_app_statuses',
  properties: {
    id: p.uuid().primary(),
    workspace: p.manyToOne(Workspace).mapToPk().deleteRule('cascade'),
    agent: p.manyToOne(WorkspaceAgent).mapToPk().deleteRule('cascade'),
    app: p.manyToOne(WorkspaceApp).mapToPk().deleteRule('cascade'),
    state: p.string(),
    message: p.text().default(''),
    uri: p.text().nullable(),
    createdAt: p.datetime(),
  },
  indexes: [{ properties: ['workspace', 'createdAt'] }],
});
export type IWorkspaceAppStatus = InferEntity<typeof WorkspaceAppStatus>;
