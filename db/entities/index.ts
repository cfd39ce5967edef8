export * from './accounts';
export * from './templates';
export * from './workspaces';
export * from './tasks';
export * from './ops';

import { ApiKey, LoginFailure, Organization, OrganizationMember, User } from './accounts';
import { Template, TemplateVersion, TemplateVersionPreset } from './templates';
import { Workspace, WorkspaceAgent, WorkspaceApp, WorkspaceAppStatus, WorkspaceBuild, WorkspaceBuildLog } from './workspaces';
import { Task, TaskMessage, TaskSnapshot, TaskWorkspaceApp } from './tasks';
import { AuditLog, NotificationMessage, SiteConfig } from './ops';

export const ALL_ENTITIES = [
  User, Organization, OrganizationMember, ApiKey, LoginFailure,
  Template, TemplateVersion, TemplateVersionPreset,
  Workspace, WorkspaceBuild, WorkspaceBuildLog, WorkspaceAgent, WorkspaceApp, WorkspaceAppStatus,
  Task, TaskWorkspaceApp, TaskSnapshot, TaskMessage,
  AuditLog, NotificationMessage, SiteConfig,
];
