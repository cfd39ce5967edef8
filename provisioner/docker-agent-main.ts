// Entry of the workspace agent inside a Docker workspace, bundled into one file the container
// mounts read-only. The agent speaks HTTP to TASKD_URL, a loopback port of the container that this
// process opens first and carries to the API socket taskd mounts in (the container has no other
// route to the server); then the agent runs here as it does everywhere else.
import net from 'node:net';
import path from 'node:path';
import { runAgentCli } from '../agent/workspace-agent-main';
import { DOOR_MOUNT, DOOR_SOCKET } from './docker-door';
import { splice } from './workspace-edge';

async function main(): Promise<number> {
  const port = Number(new URL(process.env.TASKD_URL ?? '').port);
  const socketPath = path.join(DOOR_MOUNT, DOOR_SOCKET);
  const door = net.createServer((conn) => splice(conn, net.connect(socketPath)));
  await new Promise<void>((resolve, reject) => {
    door.once('error', reject);
    door.listen({ host: '127.0.0.1', port }, resolve);
  });
  return runAgentCli();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`workspace agent: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
