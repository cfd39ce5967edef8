import os from 'node:os';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { WorkspaceDefinition } from '../domain/workspace-definition';
import type { ProvisionerDriver } from './driver';
import { createEchoDriver } from './echo';
import { createExternalDriver } from './external';
import { createProcessDriver, type ProcessDriver } from './process';

export type { ProvisionerDriver } from './driver';
export { ProvisionerError } from './driver';

/** The host a worker speaks for: process-driver workspaces stay on the host that started them. */
export function defaultHostId(config: Config): string {
  return config.worker.hostId ?? os.hostname();
}

export interface Provisioners {
  hostId: string;
  process: ProcessDriver;
  driver(name: WorkspaceDefinition['provisioner']): ProvisionerDriver;
}

export function createProvisioners(opts: { config: Config; log: Logger; hostId?: string }): Provisioners {
  const hostId = opts.hostId ?? defaultHostId(opts.config);
  const drivers = {
    process: createProcessDriver({
      dataDir: opts.config.dataDir,
      hostId,
      log: opts.log,
      stopGraceMs: opts.config.worker.workspaceStopGraceMs,
    }),
    echo: createEchoDriver(),
    external: createExternalDriver(),
  } satisfies Record<WorkspaceDefinition['provisioner'], ProvisionerDriver>;
  return {
    hostId,
    process: drivers.process,
    driver: (name) => drivers[name],
  };
}
