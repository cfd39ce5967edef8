import type Docker from 'dockerode';
import { ProvisionerError } from './driver';
import {
  LABELS,
  bridgeName,
  networkName,
  ownerLabels,
  volumeName,
  volumeOwnerSpec,
  type ContainerInput,
  type Owner,
} from './docker-spec';

// The Engine API calls a workspace's life is made of, each safe to repeat: creating what exists
// already or removing what is gone succeeds, so a retried activity converges instead of failing.

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/** `work`'s result, or null when the daemon answers one of `codes` (404 gone, 304 already so, 409 exists). */
export async function unless<T>(codes: number[], work: Promise<T>): Promise<T | null> {
  try {
    return await work;
  } catch (err) {
    if (codes.includes(statusOf(err) ?? -1)) return null;
    throw err;
  }
}

/**
 * A driver error from an Engine API failure: no daemon, or a request it refuses, will not get
 * better by asking again; anything else (a 500, a daemon restarting) may.
 */
export function engineFailure(err: unknown, socketPath: string): unknown {
  if (err instanceof ProvisionerError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
    return new ProvisionerError(`cannot reach the Docker daemon at ${socketPath} (${code}): is dockerd running on this host?`, false);
  }
  const status = statusOf(err);
  const detail = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
  if (status !== undefined && status >= 400 && status < 500) return new ProvisionerError(`Docker refused: ${detail}`, false);
  return new ProvisionerError(`Docker: ${detail}`, true);
}

export async function inspectContainer(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | null> {
  return unless([404], docker.getContainer(name).inspect());
}

/** Stops the container (SIGTERM, then SIGKILL after `graceS`) and removes it; nothing when it is gone. */
export async function removeContainer(docker: Docker, name: string, graceS: number): Promise<void> {
  const container = docker.getContainer(name);
  await unless([304, 404], container.stop({ t: graceS }));
  await unless([404], container.remove({ force: true, v: false }));
}

/** PATH of the image's configuration; a ProvisionerError when the image is not on this host. */
export async function imagePath(docker: Docker, image: string): Promise<string | null> {
  const info = await unless([404], docker.getImage(image).inspect());
  if (!info) {
    throw new ProvisionerError(`image "${image}" is not on this Docker host: taskd never pulls, so load or build it there first`, false);
  }
  const entry = (info.Config?.Env ?? []).find((e) => e.startsWith('PATH='));
  return entry ? entry.slice('PATH='.length) : null;
}

export async function ensureVolume(docker: Docker, owner: Owner, workspaceId: string): Promise<void> {
  // creating a volume that exists returns it: the call is idempotent as it stands
  await docker.createVolume({ Name: volumeName(workspaceId), Labels: ownerLabels(owner, workspaceId) });
}

/** The workspace's own bridge network: containers on other networks cannot reach it, nor it them. */
export async function ensureNetwork(docker: Docker, owner: Owner, workspaceId: string): Promise<void> {
  const name = networkName(workspaceId);
  if (await unless([404], docker.getNetwork(name).inspect())) return;
  await unless(
    [409],
    docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: ownerLabels(owner, workspaceId),
      Options: { 'com.docker.network.bridge.name': bridgeName(workspaceId) },
    }),
  );
}

export async function removeNetwork(docker: Docker, workspaceId: string): Promise<void> {
  await unless([404], docker.getNetwork(networkName(workspaceId)).remove());
}

export async function removeVolume(docker: Docker, workspaceId: string): Promise<void> {
  await unless([404], docker.getVolume(volumeName(workspaceId)).remove());
}

/**
 * Gives the volume's root folder to the workspace's user: Docker makes a new volume root's, and
 * the workspace runs without the rights to change that. A one-off container does it (as root,
 * with no capability but CHOWN and no network), before every new workspace container, since a
 * crash between creating the volume and this step must not leave a volume nobody can write to.
 */
export async function giveVolumeToWorkspaceUser(docker: Docker, input: Pick<ContainerInput, 'ctx' | 'docker' | 'owner' | 'runtime'>): Promise<void> {
  const spec = volumeOwnerSpec(input);
  await unless([404], docker.getContainer(spec.name!).remove({ force: true }));
  const container = await docker.createContainer(spec);
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) {
      throw new ProvisionerError(
        `image "${input.docker.image}" cannot run taskd's Node binary (exit ${StatusCode}): the image needs glibc (Debian, Ubuntu, Fedora ...)`,
        false,
      );
    }
  } finally {
    await unless([404], container.remove({ force: true }));
  }
}

/** Labels of a container as the Engine API reports them, with this deployment's keys read out. */
export function containerRecord(info: { Labels?: Record<string, string> } | Docker.ContainerInspectInfo) {
  const labels = ('Config' in info ? info.Config.Labels : info.Labels) ?? {};
  return { buildId: labels[LABELS.build] ?? '', apps: labels[LABELS.apps] ?? '[]' };
}
