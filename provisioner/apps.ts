import { freePort } from '../lib/net';
import type { AppDefinition, WorkspaceDefinition } from '../domain/workspace-definition';
import type { ProvisionedApp } from './driver';

// How a template app becomes a recorded app: its URL is decided by the driver (a port on this host,
// a fixed URL, an echo placeholder); the healthcheck URL follows from it.

export type AppHealth = ProvisionedApp['health'];

/** The healthcheck URL of an app served at `url`: a path is resolved against the app's URL. */
export function healthcheckUrl(app: AppDefinition, url: string): string | null {
  const hc = app.healthcheck;
  if (!hc) return null;
  if (hc.url !== undefined) return hc.url;
  if (!url) return null;
  return new URL(hc.path!, url).toString();
}

export function provisionedApp(app: AppDefinition, url: string, health?: AppHealth): ProvisionedApp {
  const hcUrl = healthcheckUrl(app, url);
  return {
    slug: app.slug,
    displayName: app.display_name ?? app.slug,
    command: app.command ?? null,
    url,
    healthcheck: hcUrl && app.healthcheck ? { url: hcUrl, interval_s: app.healthcheck.interval_s, threshold: app.healthcheck.threshold } : null,
    // a real agent reports health later; until then an app with a healthcheck is initializing
    health: health ?? (hcUrl ? 'initializing' : 'disabled'),
  };
}

/** Apps of a workspace on this host: those the agent runs get a free port of their own, the others live at their URL. */
export async function appsOnLocalPorts(definition: WorkspaceDefinition): Promise<ProvisionedApp[]> {
  const apps: ProvisionedApp[] = [];
  for (const app of definition.apps) {
    const url = app.url ?? (app.command ? `http://127.0.0.1:${await freePort()}` : '');
    apps.push(provisionedApp(app, url));
  }
  return apps;
}
