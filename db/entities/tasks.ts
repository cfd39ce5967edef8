import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Organization, User } from './accounts';
import { TemplateVersion } from './templates';
import { Workspace, WorkspaceAgent, WorkspaceApp } from './workspaces';

export const Task = defineEntity({
  name: 'Task',
  tableName: 'tasks',
  properties: {
    id: p.uuid().primary(),
    organization: p.manyToOne(Organization).mapToPk().deleteRule('cascade'),
    owner: p.manyToOne(User).mapToPk().deleteRule('cascade'),
    name: p.string(),
    displayName: p.string().length(127).default(''),
    workspace: p.manyToOne(Workspace).mapToPk().nullable().deleteRule('cascade'),
    templateVersion: p.manyToOne(TemplateVersion).mapToPk().deleteRule('cascade'),
    templateParameters: p.json<Record<string, string>>(),
    prompt: p.text(),
    // set once the workspace agent has delivered the prompt to the AI app: resumes never resend it
    promptDeliveredAt: p.datetime().nullable(),
    // where the AI app's current conversation starts among the stored messages (task_messages ids):
    // an app that restarts without its state numbers its messages from 0 again, after the old ones
    conversationBase: p.integer().default(0),
    idempotencyKey: p.string().nullable(),
    createdAt: p.datetime(),
    deletedAt: p.datetime().nullable(),
  },
  uniques: [
    {
      name: 'tasks_owner_name_key',
      expression:
        'create unique index "tasks_owner_name_key" on "tasks" ("owner_id", lower("name")) where "deleted_at" is null',
    },
    { name: 'tasks_owner_idempotency_key', properties: ['owner', 'idempotencyKey'] },
  ],
  indexes: [
    { properties: ['owner', 'createdAt'] },
    { properties: ['workspace'] },
    {
      name: 'tasks_live_created_at',
      expression: 'create index "tasks_live_created_at" on "tasks" ("created_at" desc, "id") where "deleted_at" is null',
    },
  ],
});
export type ITask = InferEntity<typeof Task>;

export const TaskWorkspaceApp = defineEntity({
  name: 'TaskWorkspaceApp',
  tableName: 'task_workspace_apps',
  properties: {
    task: p.manyToOne(Task).primary().mapToPk().deleteRule('cascade'),
    workspaceBuildNumber: p.integer().primary(),
    workspaceAgent: p.manyToOne(WorkspaceAgent).mapToPk().nullable().deleteRule('set null'),
    workspaceApp: p.manyToOne(WorkspaceApp).mapToPk().nullable().deleteRule('set null'),
  },
  primaryKeys: ['task', 'workspaceBuildNumber'],
  indexes: [
    {
      name: 'task_workspace_apps_task_id_build_desc',
      expression:
        'create index "task_workspace_apps_task_id_build_desc" on "task_workspace_apps" ("task_id", "workspace_build_number" desc)',
    },
  ],
});
export type ITaskWorkspaceApp = InferEntity<typeof TaskWorkspaceApp>;

export const TaskSnapshot = defineEntity({
  name: 'TaskSnapshot',
  tableName: 'task_snapshots',
  properties: {
    task: p.oneToOne(Task).primary().mapToPk().deleteRule('cascade'),
    logSnapshot: p.json<unknown>(),
    logSnapshotCreatedAt: p.datetime(),
  },
});
export type ITaskSnapshot = InferEntity<typeof TaskSnapshot>;

// Beyond Coder: every message the AI app produced, so a paused task shows the whole conversation.
export const TaskMessage = defineEntity({
  name: 'TaskMessage',
  tableName: 'task_messages',
  properties: {
    task: p.manyToOne(Task).primary().mapToPk().deleteRule('cascade'),
    messageId: p.integer().primary(),
    role: p.string(),
    content: p.text(),
    time: p.datetime(),
  },
  primaryKeys: ['task', 'messageId'],
});
export type ITaskMessage = InferEntity<typeof TaskMessage>;
