import type { WorkspaceDefinition } from '../domain/workspace-definition';
import { provisionedApp } from './apps';
import { ProvisionerError, type BuildContext, type ProvisionerDriver, type StartOutcome } from './driver';

// Completes builds without running anything, like Coder's echo provisioner: tests and benchmarks
// reach every task state quickly and deterministically through the template's `echo` options.

type EchoOptions = NonNullable<WorkspaceDefinition['echo']>;

async function act(ctx: BuildContext): Promise<void> {
  const echo: EchoOptions = ctx.definition.echo ?? {};
  if (echo.delay_ms) await new Promise((resolve) => setTimeout(resolve, echo.delay_ms));
  if (echo.fail?.includes(ctx.transition)) {
    // deterministic failure: retrying would only fail again
    throw new ProvisionerError(`echo provisioner: ${ctx.transition} fails as the template asks`, false);
  }
}

/** The outcome an echo start reports: the driver plays the agent unless agent_lifecycle is "none". */
export function echoStartOutcome(definition: WorkspaceDefinition): StartOutcome {
  const echo: EchoOptions = definition.echo ?? {};
  const lifecycle = echo.agent_lifecycle ?? 'ready';
  const aiSlug = definition.ai_task?.app;
  const apps = definition.apps.map((app) => {
    const hasHealthcheck = app.healthcheck !== undefined;
    let health: StartOutcome['apps'][number]['health'];
    if (echo.app_health && (hasHealthcheck || app.slug === aiSlug)) health = echo.app_health;
    else if (!hasHealthcheck) health = 'disabled';
    // with no agent playing along, health stays where a real agent would find it
    else health = lifecycle === 'none' ? 'initializing' : 'healthy';
    return provisionedApp(app, app.url ?? `http://127.0.0.1:0/echo/${app.slug}`, health);
  });
  return { apps, hostId: null, agentLifecycle: lifecycle === 'none' ? 'created' : lifecycle };
}

export function createEchoDriver(): ProvisionerDriver {
  return {
    name: 'echo',
    async start(ctx) {
      await act(ctx);
      return echoStartOutcome(ctx.definition);
    },
    async stop(ctx) {
      await act(ctx);
    },
    async delete(ctx) {
      await act(ctx);
    },
  };
}
