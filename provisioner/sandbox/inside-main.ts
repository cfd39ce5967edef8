// Entry of the workspace inside its sandbox: the bridge's end (listeners on the sandbox's own
// loopback for the taskd API and the egress proxy, whose connections go out to the supervisor, and
// the app connections that come in from it), then the workspace agent itself in this process.
import net from 'node:net';
import { runAgentCli } from '../../agent/workspace-agent-main';
import { BRIDGE_ENV, type FromBridge, type InnerPorts, type ToBridge } from './bridge';
import { splice } from '../workspace-edge';

function door(port: number, message: FromBridge): Promise<void> {
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    if (!process.connected) return void socket.destroy();
    process.send!(message, socket, undefined, (err) => err && socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, resolve);
  });
}

async function main(): Promise<number> {
  const ports = JSON.parse(process.env[BRIDGE_ENV] ?? '') as InnerPorts;
  // the apps inherit this environment: nothing of the bridge's is theirs to use
  delete process.env[BRIDGE_ENV];
  process.on('message', (message: ToBridge, handle: unknown) => {
    if (message?.type === 'stop') process.kill(process.pid, 'SIGTERM');
    else if (message?.type === 'app' && handle instanceof net.Socket) splice(handle, net.connect({ host: '127.0.0.1', port: message.port }));
  });
  // the supervisor is gone (it is being killed): the sandbox goes with it, stop cleanly meanwhile
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  await door(ports.api, { type: 'api' });
  if (ports.proxy !== null) await door(ports.proxy, { type: 'egress' });
  return runAgentCli();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`workspace sandbox: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
