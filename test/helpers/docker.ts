// What the docker driver's test files share: a Docker daemon (or the one-line reason there is none),
// the offline test image, a look at what a workspace has on the Docker host, and removing everything
// a test stack's data folder made there.
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { ensureDockerDaemon } from '../../devstack/docker-daemon';
import type { Logger } from '../../lib/logger';
import { DOOR_MOUNT } from '../../provisioner/docker-door';
import { LABELS, containerName, networkName, volumeName } from '../../provisioner/docker-spec';
import { testWorkspaceImage } from './docker-image';

export type DockerForTests = { docker: Docker; image: string } | { skip: string };

/**
 * The daemon and the test image; a one-line reason to skip where no daemon can be had (not root,
 * or Docker not installed); an error where one should have started, so CI cannot skip these tests.
 */
export async function dockerForTests(log: Logger): Promise<DockerForTests> {
  const daemon = await ensureDockerDaemon({ log });
  if (!daemon.ok && daemon.broken) throw new Error(`the Docker daemon would not start: ${daemon.reason}`);
  if (!daemon.ok) return { skip: `no Docker daemon: ${daemon.reason}` };
  const docker = new Docker({ socketPath: daemon.socketPath });
  await removeAbandoned(docker);
  return { docker, image: await testWorkspaceImage(docker) };
}

/**
 * Workspace containers whose data folder is gone (a test run killed before its cleanup), with their
 * networks and volumes: whoever made them cannot reap them any more. A folder that still exists may
 * belong to a run in progress, so its containers are left alone.
 */
async function removeAbandoned(docker: Docker): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABELS.deployment] }) });
  for (const c of containers) {
    const door = c.Mounts.find((m) => m.Destination === DOOR_MOUNT);
    const workspaceId = c.Labels[LABELS.workspace];
    if (!door || !workspaceId || fs.existsSync(door.Source)) continue;
    await orNull(docker.getContainer(c.Id).remove({ force: true }));
    await orNull(docker.getNetwork(networkName(workspaceId)).remove());
    await orNull(docker.getVolume(volumeName(workspaceId)).remove());
  }
}

export interface WorkspaceOnDocker {
  container: Docker.ContainerInspectInfo | null;
  network: Docker.NetworkInspectInfo | null;
  volume: (Docker.VolumeInspectInfo & { Mountpoint: string }) | null;
}

const orNull = <T>(p: Promise<T>) => p.catch((err: { statusCode?: number }) => (err.statusCode === 404 ? null : Promise.reject(err)));

export async function onDocker(docker: Docker, workspaceId: string): Promise<WorkspaceOnDocker> {
  const [container, network, volume] = await Promise.all([
    orNull(docker.getContainer(containerName(workspaceId)).inspect()),
    orNull(docker.getNetwork(networkName(workspaceId)).inspect() as Promise<Docker.NetworkInspectInfo>),
    orNull(docker.getVolume(volumeName(workspaceId)).inspect() as Promise<Docker.VolumeInspectInfo & { Mountpoint: string }>),
  ]);
  return { container, network, volume };
}

/** A file of the workspace's volume, read on the host (the tests run where dockerd keeps volumes). */
export async function volumeFile(docker: Docker, workspaceId: string, file: string): Promise<string | null> {
  const { volume } = await onDocker(docker, workspaceId);
  if (!volume) return null;
  try {
    return fs.readFileSync(path.join(volume.Mountpoint, file), 'utf8');
  } catch {
    return null;
  }
}

/** Removes every container, network and volume the data folder's deployment made (a failed test leaves some). */
export async function removeDeployment(docker: Docker, dataDir: string): Promise<void> {
  let deployment: string;
  try {
    deployment = fs.readFileSync(path.join(dataDir, 'docker', 'deployment-id'), 'utf8').trim();
  } catch {
    return;
  }
  const filters = JSON.stringify({ label: [`${LABELS.deployment}=${deployment}`] });
  for (const c of await docker.listContainers({ all: true, filters })) await orNull(docker.getContainer(c.Id).remove({ force: true }));
  for (const n of await docker.listNetworks({ filters })) await orNull(docker.getNetwork(n.Id).remove());
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await orNull(docker.getVolume(v.Name).remove());
}
