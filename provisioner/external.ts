import { provisionedApp } from './apps';
import type { ProvisionerDriver } from './driver';

// The workspace runs somewhere taskd does not manage: the build only records the apps at the URLs
// the template gives, and the agent is started elsewhere with credentials from
// GET /workspaces/{workspace}/external-agent/{agent}/credentials (lib/agent-token.ts). Stop and
// delete have nothing to tear down here; the agent's token stops working once a newer build exists.

export function createExternalDriver(): ProvisionerDriver {
  return {
    name: 'external',
    async start(ctx) {
      return {
        apps: ctx.definition.apps.map((app) => provisionedApp(app, app.url ?? '')),
        hostId: null,
        agentLifecycle: 'created',
      };
    },
    async stop() {},
    async delete() {},
  };
}
