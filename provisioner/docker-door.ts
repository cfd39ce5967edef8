import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../lib/logger';
import { apiConnector, splice } from './workspace-edge';

// A Docker workspace's one way to the server: the taskd API, through a unix socket the worker
// serves and every workspace container mounts read-only at DOOR_MOUNT. The container's network
// reaches neither the host's loopback (where the API, Temporal and PostgreSQL listen) nor other
// workspaces, so this socket is how its agent reports, and what it carries goes to the API alone.
// The socket's folder is mounted rather than the socket itself, so a restarted worker's new socket
// shows up in containers that outlived the old one.

export const DOOR_MOUNT = '/run/taskd';
export const DOOR_SOCKET = 'api.sock';

export interface ApiDoor {
  /** host folder holding the socket: the source of the DOOR_MOUNT bind mount */
  dir: string;
  close(): Promise<void>;
}

/** Serves `<dir>/api.sock`, each connection carried to the API at `accessUrl`. */
export async function openApiDoor(opts: { dir: string; accessUrl: string; log: Logger }): Promise<ApiDoor> {
  const connectApi = apiConnector(opts.accessUrl);
  const socketPath = path.join(opts.dir, DOOR_SOCKET);
  fs.mkdirSync(opts.dir, { recursive: true });
  // the workspace's unprivileged user connects through it: a socket it cannot write to refuses it
  fs.chmodSync(opts.dir, 0o755);
  // the previous worker's socket: nothing answers on it any more
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((inside) => splice(inside, connectApi()));
  server.on('error', (err) => opts.log.warn({ err }, 'workspace API socket failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o666);
  // the worker exits on its own terms: an idle door does not hold it up
  server.unref();
  return {
    dir: opts.dir,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
