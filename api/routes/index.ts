import type { ApiApp, AppDeps } from '../context';
import { registerAgentRoutes } from './agent';
import { registerBuildInfoRoutes } from './buildinfo';
import { registerDocsRoutes } from './docs';
import { registerOrganizationRoutes } from './organizations';
import { registerParameterRoutes } from './parameters';
import { registerSessionRoutes } from './sessions';
import { registerTaskRoutes } from './tasks/index';
import { registerTemplateRoutes } from './templates';
import { registerTemplateVersionRoutes } from './template-versions';
import { registerUserRoutes } from './users';
import { registerWatchRoutes } from './watch';
import { registerWorkspaceRoutes } from './workspaces';
import { registerBuildLogRoutes } from './build-logs';
import { registerWorkspaceAgentRoutes } from './workspace-agents';

// Each resource registers its routes here, under both /api/v2 and /api/experimental.
export function registerApiRoutes(api: ApiApp, deps: AppDeps): void {
  registerAgentRoutes(api, deps);
  registerBuildInfoRoutes(api, deps);
  registerDocsRoutes(api, deps);
  // sessions before users: "/users/login" and "/users/logout" must win over "/users/{user}"
  registerSessionRoutes(api, deps);
  registerUserRoutes(api, deps);
  registerOrganizationRoutes(api, deps);
  registerTemplateRoutes(api, deps);
  registerTemplateVersionRoutes(api, deps);
  registerWatchRoutes(api, deps);
  registerTaskRoutes(api, deps);
  registerWorkspaceRoutes(api, deps);
  registerBuildLogRoutes(api, deps);
  registerWorkspaceAgentRoutes(api, deps);
  registerParameterRoutes(api, deps);
}
