import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '../lib/logger';
import { appsOnLocalPorts } from './apps';
import { openApiDoor, type ApiDoor } from './docker-door';
import {
  containerRecord,
  engineFailure,
  ensureNetwork,
  ensureVolume,
  giveVolumeToWorkspaceUser,
  imagePath,
  inspectContainer,
  removeContainer,
  removeNetwork,
  removeVolume,
  unless,
} from './docker-engine';
import { prepareRuntime, removeUnusedRuntimes, type Runtime } from './docker-runtime';
import { LABELS, containerName, containerSpec, type Owner } from './docker-spec';
import { ProvisionerError, type BuildContext, type ProvisionedApp, type ProvisionerDriver, type ReconcileDecision, type StartOutcome } from './driver';
import { perKeyQueue } from './per-key-queue';

// A workspace is a container on this host's Docker daemon, made from the template's image: its
// folder is a named volume that outlives the container (pause/resume) until the workspace is
// deleted, its network is a bridge of its own, and it reaches the server only through the API
// socket (docker-door.ts). Every start makes a new container (the agent token is in its
// environment), so stop removes the container and its network and keeps the volume. Labels on all
// three name the data folder's deployment and the workspace, which is how a restarted worker finds
// what runs (or was left behind by a crash) on this host without any record of its own.

export interface DockerDriverOptions {
  dataDir: string;
  hostId: string;
  log: Logger;
  /** where the API listens, as workspace agents would reach it from this host */
  accessUrl: string;
  socketPath: string;
  /** stop grace for templates that set none */
  stopGraceMs: number;
}

export interface DockerDriver extends ProvisionerDriver {
  /**
   * Stops every running workspace container of this data folder and keeps it, so the next worker
   * start brings it back; for the dev launcher's Ctrl-C (a worker that merely shuts down leaves them running).
   */
  stopAllWorkspaces(): Promise<void>;
  /** On worker start: each workspace of this deployment found on the Docker host is kept, stopped, removed or restarted. */
  reconcile(decide: ReconcileDecision): Promise<{ stopped: string[]; restarted: string[]; removed: string[] }>;
}

interface Prepared {
  owner: Owner;
  runtime: Runtime;
  door: ApiDoor;
}

// one API socket per data folder in a process: a worker started again in the same process reuses it
const doors = new Map<string, Promise<ApiDoor>>();

export function createDockerDriver(opts: DockerDriverOptions): DockerDriver {
  const docker = new Docker({ socketPath: opts.socketPath });
  const root = path.join(opts.dataDir, 'docker');
  const deploymentFile = path.join(root, 'deployment-id');
  const log = opts.log.child({ component: 'docker-provisioner' });
  const serialize = perKeyQueue();
  let prepared: Promise<Prepared> | null = null;

  /** The id on every label of this data folder's workspaces, made on first use. */
  function deploymentId(): string {
    fs.mkdirSync(root, { recursive: true });
    try {
      fs.writeFileSync(deploymentFile, randomBytes(8).toString('hex'), { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return fs.readFileSync(deploymentFile, 'utf8').trim();
  }

  function prepare(): Promise<Prepared> {
    prepared ??= (async () => {
      const owner = { deploymentId: deploymentId(), hostId: opts.hostId };
      const doorDir = path.join(root, 'door');
      let door = doors.get(doorDir);
      if (!door) {
        door = openApiDoor({ dir: doorDir, accessUrl: opts.accessUrl, log });
        doors.set(doorDir, door);
        door.catch(() => doors.delete(doorDir));
      }
      return { owner, runtime: await prepareRuntime(root), door: await door };
    })();
    prepared.catch(() => (prepared = null));
    return prepared;
  }

  const graceS = (ctx: BuildContext) => ctx.definition.docker?.stop_grace_s ?? Math.ceil(opts.stopGraceMs / 1000);
  const outcome = (apps: ProvisionedApp[]): StartOutcome => ({ apps, hostId: opts.hostId, agentLifecycle: 'created' });

  async function startLocked(ctx: BuildContext): Promise<StartOutcome> {
    const definition = ctx.definition.docker;
    if (!ctx.agent || !definition) throw new ProvisionerError('docker provisioner: a start build needs an agent and a "docker" section', false);
    const { owner, runtime, door } = await prepare();
    const name = containerName(ctx.workspaceId);
    const existing = await inspectContainer(docker, name);
    const recorded = existing ? containerRecord(existing) : null;
    const sameBuild = recorded?.buildId === ctx.buildId;
    if (existing && sameBuild && existing.State.Running) return outcome(JSON.parse(recorded!.apps) as ProvisionedApp[]);
    // the same build keeps its ports (they are in its apps' URLs already); a new container is made
    // either way, so it runs this worker's agent and nothing of a container that died
    const apps = sameBuild ? (JSON.parse(recorded!.apps) as ProvisionedApp[]) : await appsOnLocalPorts(ctx.definition);
    if (existing) await removeContainer(docker, name, graceS(ctx));
    const pathOfImage = await imagePath(docker, definition.image);
    ctx.progress?.(`Preparing volume, network and container from image ${definition.image}`);
    await ensureVolume(docker, owner, ctx.workspaceId);
    await ensureNetwork(docker, owner, ctx.workspaceId);
    await giveVolumeToWorkspaceUser(docker, { ctx, docker: definition, owner, runtime });
    const container = await docker.createContainer(
      containerSpec({ ctx, docker: definition, owner, apps, runtime, doorDir: door.dir, imagePath: pathOfImage, stopGraceS: graceS(ctx) }),
    );
    await container.start();
    ctx.progress?.(`Container ${container.id.slice(0, 12)} started; app ports published on 127.0.0.1`);
    log.info({ workspaceId: ctx.workspaceId, buildId: ctx.buildId, container: container.id.slice(0, 12) }, 'workspace container started');
    return outcome(apps);
  }

  /** Stops and removes the container and its network; the volume stays for the next start. */
  async function stopLocked(workspaceId: string, graceSeconds: number): Promise<void> {
    await removeContainer(docker, containerName(workspaceId), graceSeconds);
    await removeNetwork(docker, workspaceId);
  }

  async function deleteLocked(workspaceId: string, graceSeconds: number): Promise<void> {
    await stopLocked(workspaceId, graceSeconds);
    await removeVolume(docker, workspaceId);
    log.info({ workspaceId }, 'workspace container, network and volume removed');
  }

  /** Runs one driver call for a workspace, one at a time per workspace, with Engine API failures as driver errors. */
  const run = <T>(workspaceId: string, work: () => Promise<T>) =>
    serialize(workspaceId, async () => {
      try {
        return await work();
      } catch (err) {
        throw engineFailure(err, opts.socketPath);
      }
    });

  const labelled = (deployment: string) => JSON.stringify({ label: [`${LABELS.deployment}=${deployment}`] });

  /** Host paths the deployment's containers mount. */
  async function mountedSources(deployment: string): Promise<string[]> {
    const containers = await docker.listContainers({ all: true, filters: labelled(deployment) });
    return containers.flatMap((c) => c.Mounts.map((m) => m.Source));
  }

  async function listOwn(deployment: string) {
    const filters = labelled(deployment);
    const [containers, volumes, networks] = await Promise.all([
      docker.listContainers({ all: true, filters }),
      docker.listVolumes({ filters }),
      docker.listNetworks({ filters }),
    ]);
    const byWorkspace = new Map<string, { running: boolean; buildId: string }>();
    const note = (labels: Record<string, string> | undefined) => {
      const id = labels?.[LABELS.workspace];
      if (id && !byWorkspace.has(id)) byWorkspace.set(id, { running: false, buildId: '' });
    };
    for (const c of containers) {
      const id = c.Labels[LABELS.workspace];
      // the workspace's own container, not the one-off that prepares its volume
      if (!id || !c.Names.includes(`/${containerName(id)}`)) continue;
      byWorkspace.set(id, { running: c.State === 'running', buildId: containerRecord(c).buildId });
    }
    for (const c of containers) note(c.Labels);
    for (const v of volumes.Volumes ?? []) note(v.Labels ?? undefined);
    for (const n of networks) note(n.Labels);
    return byWorkspace;
  }

  return {
    name: 'docker',
    start: (ctx) => run(ctx.workspaceId, () => startLocked(ctx)),
    stop: (ctx) => run(ctx.workspaceId, () => stopLocked(ctx.workspaceId, graceS(ctx))),
    delete: (ctx) => run(ctx.workspaceId, () => deleteLocked(ctx.workspaceId, graceS(ctx))),
    async stopAllWorkspaces() {
      if (!fs.existsSync(deploymentFile)) return;
      const filters = JSON.stringify({ label: [`${LABELS.deployment}=${deploymentId()}`], status: ['running'] });
      const grace = Math.ceil(opts.stopGraceMs / 1000);
      const running = (await docker.listContainers({ filters })).filter((c) => c.Names.includes(`/${containerName(c.Labels[LABELS.workspace] ?? '')}`));
      await Promise.all(
        running.map((c) => run(c.Labels[LABELS.workspace]!, () => unless([304, 404], docker.getContainer(c.Id).stop({ t: grace })))),
      );
    },
    async reconcile(decide) {
      const result = { stopped: [] as string[], restarted: [] as string[], removed: [] as string[] };
      // a data folder that never ran a Docker workspace has nothing to find, and needs no daemon
      if (!fs.existsSync(deploymentFile)) return result;
      const { owner, runtime } = await prepare();
      const found = await listOwn(owner.deploymentId);
      const grace = Math.ceil(opts.stopGraceMs / 1000);
      for (const [workspaceId, state] of found) {
        const decision = await decide({ workspaceId, ...state });
        if (decision.action === 'stop' && decision.gone) {
          await run(workspaceId, () => deleteLocked(workspaceId, grace));
          result.removed.push(workspaceId);
        } else if (decision.action === 'stop') {
          await run(workspaceId, () => stopLocked(workspaceId, grace));
          if (state.running) result.stopped.push(workspaceId);
        } else if (decision.action === 'restart') {
          await run(workspaceId, () => startLocked(decision.ctx));
          result.restarted.push(workspaceId);
        }
      }
      removeUnusedRuntimes(root, new Set([runtime.dir, ...(await mountedSources(owner.deploymentId))]));
      if (result.removed.length > 0) log.info({ workspaces: result.removed }, 'removed containers, volumes and networks of workspaces that are gone');
      if (result.stopped.length > 0) log.info({ workspaces: result.stopped }, 'stopped workspace containers that should not run');
      if (result.restarted.length > 0) log.info({ workspaces: result.restarted }, 'started workspace containers that should run');
      return result;
    },
  };
}
