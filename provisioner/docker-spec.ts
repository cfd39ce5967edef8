import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { DockerDefinition } from '../domain/workspace-definition';
import { DOOR_MOUNT } from './docker-door';
import { AGENT_IN_CONTAINER, NODE_IN_CONTAINER, RUNTIME_MOUNT, type Runtime } from './docker-runtime';
import type { BuildContext, ProvisionedApp } from './driver';

// What a Docker workspace is made of, as the Engine API is asked for it: names, labels and the
// container's configuration. Everything here is a plain function of the build, so a retried start
// asks for exactly the same thing.

export const WORKSPACE_MOUNT = '/workspace';
/** the workspace's user inside its container: not root, and owner of the workspace folder */
export const WORKSPACE_UID = 1000;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// Docker fills an empty volume from the image at its mount point, owner included, on every mount:
// that would give the workspace folder back to root each time a new container mounts it. (The
// typings want every volume option; the Engine API takes any subset.)
const NO_COPY = { NoCopy: true } as Docker.MountSettings['VolumeOptions'];

/** Labels on every container, volume and network of a workspace: what reconcile and reaping read. */
export const LABELS = {
  /** the data folder of the taskd that made it: one Docker host may serve several */
  deployment: 'dev.taskd.deployment',
  host: 'dev.taskd.host',
  workspace: 'dev.taskd.workspace',
  /** (containers) the build whose agent token the container holds */
  build: 'dev.taskd.build',
  /** (containers) the apps recorded for that build, as JSON: a retried start returns the same */
  apps: 'dev.taskd.apps',
} as const;

export const containerName = (workspaceId: string) => `taskd-${workspaceId}`;
export const volumeName = (workspaceId: string) => `taskd-${workspaceId}-home`;
export const networkName = (workspaceId: string) => `taskd-${workspaceId}`;

/**
 * The host's name for the workspace network's bridge: "tskd" and 11 hex digits (Linux allows 15
 * characters), so an operator's firewall rule can match every workspace bridge as `tskd+`.
 */
export function bridgeName(workspaceId: string): string {
  return `tskd${createHash('sha256').update(workspaceId).digest('hex').slice(0, 11)}`;
}

export interface Owner {
  deploymentId: string;
  hostId: string;
}

export function ownerLabels(owner: Owner, workspaceId: string): Record<string, string> {
  return { [LABELS.deployment]: owner.deploymentId, [LABELS.host]: owner.hostId, [LABELS.workspace]: workspaceId };
}

/** The container's loopback port for the agent's way to the API: clear of every app's port. */
export function innerApiPort(apps: readonly ProvisionedApp[]): number {
  const taken = new Set(apps.map((a) => (a.url ? Number(new URL(a.url).port) : 0)));
  let port = 20_080;
  while (taken.has(port)) port++;
  return port;
}

/** Ports the agent runs apps on: the same number on the host's 127.0.0.1 and in the container. */
export function appPorts(apps: readonly ProvisionedApp[]): number[] {
  return apps.filter((a) => a.command !== null && a.url.startsWith('http://127.0.0.1:')).map((a) => Number(new URL(a.url).port));
}

export interface ContainerInput {
  ctx: BuildContext;
  docker: DockerDefinition;
  owner: Owner;
  apps: ProvisionedApp[];
  runtime: Runtime;
  /** host folder of the API socket */
  doorDir: string;
  /** PATH of the image, which the runtime's bin folder goes in front of */
  imagePath: string | null;
  stopGraceS: number;
}

export function containerSpec(input: ContainerInput): Docker.ContainerCreateOptions {
  const { ctx, docker, apps } = input;
  const ports = appPorts(apps);
  const env: Record<string, string> = {
    PATH: `${RUNTIME_MOUNT}/bin:${input.imagePath ?? DEFAULT_PATH}`,
    HOME: WORKSPACE_MOUNT,
    TMPDIR: '/tmp',
    TASKD_URL: `http://127.0.0.1:${innerApiPort(apps)}`,
    TASKD_AGENT_TOKEN: ctx.agent!.token,
    TASKD_WORKSPACE_DIR: WORKSPACE_MOUNT,
    TASKD_ROOT: RUNTIME_MOUNT,
  };
  return {
    name: containerName(ctx.workspaceId),
    Image: docker.image,
    User: `${WORKSPACE_UID}:${WORKSPACE_UID}`,
    WorkingDir: WORKSPACE_MOUNT,
    Entrypoint: [NODE_IN_CONTAINER],
    Cmd: [AGENT_IN_CONTAINER],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...ownerLabels(input.owner, ctx.workspaceId),
      [LABELS.build]: ctx.buildId,
      [LABELS.apps]: JSON.stringify(apps),
    },
    StopSignal: 'SIGTERM',
    StopTimeout: input.stopGraceS,
    ExposedPorts: Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}])),
    HostConfig: {
      // tini as PID 1 passes the stop signal on to the agent and reaps what its apps leave behind
      Init: true,
      NetworkMode: networkName(ctx.workspaceId),
      PortBindings: Object.fromEntries(ports.map((p) => [`${p}/tcp`, [{ HostIp: '127.0.0.1', HostPort: String(p) }]])),
      Mounts: [
        { Type: 'volume', Source: volumeName(ctx.workspaceId), Target: WORKSPACE_MOUNT, VolumeOptions: NO_COPY },
        { Type: 'bind', Source: input.runtime.dir, Target: RUNTIME_MOUNT, ReadOnly: true },
        { Type: 'bind', Source: input.runtime.node, Target: NODE_IN_CONTAINER, ReadOnly: true },
        { Type: 'bind', Source: input.doorDir, Target: DOOR_MOUNT, ReadOnly: true },
      ],
      // the workspace folder and a private /tmp are the only places to write
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,mode=1777' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: docker.pids_limit,
      ...(docker.cpus === undefined ? {} : { NanoCpus: Math.round(docker.cpus * 1e9) }),
      // swap included, so the limit is what the workspace gets
      ...(docker.memory_mb === undefined ? {} : { Memory: docker.memory_mb * 1024 * 1024, MemorySwap: docker.memory_mb * 1024 * 1024 }),
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}

/** The one-off container that gives a new volume's root to the workspace's user before the workspace starts. */
export function volumeOwnerSpec(input: Pick<ContainerInput, 'ctx' | 'docker' | 'owner' | 'runtime'>): Docker.ContainerCreateOptions {
  const id = input.ctx.workspaceId;
  return {
    name: `${containerName(id)}-init`,
    Image: input.docker.image,
    User: '0:0',
    Entrypoint: [NODE_IN_CONTAINER],
    Cmd: ['-e', `require('fs').chownSync(${JSON.stringify(WORKSPACE_MOUNT)}, ${WORKSPACE_UID}, ${WORKSPACE_UID})`],
    Labels: ownerLabels(input.owner, id),
    HostConfig: {
      NetworkMode: 'none',
      Mounts: [
        { Type: 'volume', Source: volumeName(id), Target: WORKSPACE_MOUNT, VolumeOptions: NO_COPY },
        { Type: 'bind', Source: input.runtime.dir, Target: RUNTIME_MOUNT, ReadOnly: true },
        { Type: 'bind', Source: input.runtime.node, Target: NODE_IN_CONTAINER, ReadOnly: true },
      ],
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN'],
      SecurityOpt: ['no-new-privileges'],
    },
  };
}
