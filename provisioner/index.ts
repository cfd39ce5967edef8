import os from 'node:os';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { WorkspaceDefinition } from '../domain/workspace-definition';
import type { ProvisionerDriver, ReconcileDecision } from './driver';
import { createDockerDriver, type DockerDriver } from './docker';
import { createEchoDriver } from './echo';
import { createExternalDriver } from './external';
import { createProcessDriver, type ProcessDriver } from './process';

export type { ProvisionerDriver } from './driver';
export { ProvisionerError } from './driver';

/** The host a worker speaks for: process and docker workspaces stay on the host that started them. */
export function defaultHostId(config: Config): string {
  return config.worker.hostId ?? os.hostname();
}

export interface Provisioners {
  hostId: string;
  process: ProcessDriver;
  docker: DockerDriver;
  driver(name: WorkspaceDefinition['provisioner']): ProvisionerDriver;
  /** On worker start: the workspaces of every driver that keeps some on this host, each kept, stopped or restarted; returns those stopped or removed. */
  reconcile(decide: ReconcileDecision): Promise<string[]>;
  /** The dev launcher's Ctrl-C: every workspace on this host stops, to be brought back by the next start. */
  stopAllWorkspaces(): Promise<void>;
}

export function createProvisioners(opts: { config: Config; log: Logger; hostId?: string }): Provisioners {
  const hostId = opts.hostId ?? defaultHostId(opts.config);
  const drivers = {
    process: createProcessDriver({
      dataDir: opts.config.dataDir,
      hostId,
      log: opts.log,
      stopGraceMs: opts.config.worker.workspaceStopGraceMs,
      egress: opts.config.worker.workspaceEgress,
    }),
    docker: createDockerDriver({
      dataDir: opts.config.dataDir,
      hostId,
      log: opts.log,
      accessUrl: opts.config.http.accessUrl,
      socketPath: opts.config.docker.socketPath,
      stopGraceMs: opts.config.worker.workspaceStopGraceMs,
    }),
    echo: createEchoDriver(),
    external: createExternalDriver(),
  } satisfies Record<WorkspaceDefinition['provisioner'], ProvisionerDriver>;
  return {
    hostId,
    process: drivers.process,
    docker: drivers.docker,
    driver: (name) => drivers[name],
    async reconcile(decide) {
      const { stopped } = await drivers.process.reconcile(decide);
      const docker = await drivers.docker.reconcile(decide);
      return [...stopped, ...docker.stopped, ...docker.removed];
    },
    async stopAllWorkspaces() {
      await Promise.all([drivers.process.stopAllWorkspaces(), drivers.docker.stopAllWorkspaces()]);
    },
  };
}
