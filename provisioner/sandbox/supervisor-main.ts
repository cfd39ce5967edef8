// Entry of a workspace's supervisor. The process driver starts it detached, as the workspace's own
// unprivileged user, so the workspace outlives a worker restart; it is bubblewrap's parent (the
// sandbox dies with it) and the sandbox's only door: it listens on the host's 127.0.0.1 at the
// apps' ports and hands each connection in, and it carries the connections the workspace opens to
// the taskd API or the egress proxy out. SIGTERM asks the workspace agent inside to stop (it
// uploads its snapshot and stops its apps); the supervisor exits once the sandbox has.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createLogger } from '../../lib/logger';
import { BRIDGE_ENV, SPEC_ENV, WORKSPACE_MOUNT, innerPorts, type FromBridge, type InnerPorts, type SandboxSpec, type ToBridge } from './bridge';
import { apiConnector, splice } from '../workspace-edge';
import { sandboxArgs } from './bwrap-args';
import { createEgressProxy } from './egress-proxy';

const INSIDE_MAIN = path.join(__dirname, 'inside-main.ts');
const O_CLOEXEC = 0o2000000;

/**
 * Descriptors this process inherited without close-on-exec (from whatever started the worker)
 * would pass through bubblewrap into the sandbox, and an open folder there is a way out of it.
 * Node opens everything of its own with close-on-exec, so those are exactly the ones to close.
 */
function closeInheritedDescriptors(): void {
  for (const entry of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(entry);
    if (fd <= 2) continue;
    try {
      const flags = /^flags:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) fs.closeSync(fd);
    } catch {
      // the directory listing's own descriptor, already closed
    }
  }
}

function insideEnv(spec: SandboxSpec, ports: InnerPorts): NodeJS.ProcessEnv {
  const proxy = ports.proxy === null ? null : `http://127.0.0.1:${ports.proxy}`;
  return {
    ...spec.env,
    HOME: WORKSPACE_MOUNT,
    USER: 'workspace',
    LOGNAME: 'workspace',
    TMPDIR: '/tmp',
    TASKD_URL: `http://127.0.0.1:${ports.api}`,
    TASKD_AGENT_TOKEN: spec.agentToken,
    TASKD_WORKSPACE_DIR: WORKSPACE_MOUNT,
    [BRIDGE_ENV]: JSON.stringify(ports),
    ...(proxy === null
      ? {}
      : {
          HTTP_PROXY: proxy,
          HTTPS_PROXY: proxy,
          http_proxy: proxy,
          https_proxy: proxy,
          NO_PROXY: 'localhost,127.0.0.1,::1',
          no_proxy: 'localhost,127.0.0.1,::1',
        }),
  };
}

function listenOnHost(port: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: true }, onConnection);
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}

async function main(): Promise<void> {
  closeInheritedDescriptors();
  const spec = JSON.parse(process.env[SPEC_ENV] ?? '') as SandboxSpec;
  const log = createLogger(process.env.LOG_LEVEL ?? 'info', 'workspace-supervisor').child({ workspaceId: spec.workspaceId });
  const ports = innerPorts(spec.appPorts, spec.egress.mode !== 'none');
  const egress = ports.proxy === null ? null : createEgressProxy({ policy: spec.egress, log: (fields, msg) => log.warn(fields, msg) });
  const connectApi = apiConnector(spec.accessUrl);

  const command = [process.execPath, '--import', require.resolve('tsx'), INSIDE_MAIN];
  const child = spawn('bwrap', sandboxArgs(spec, command), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: insideEnv(spec, ports),
  });
  const toBridge = (message: ToBridge, socket?: net.Socket) => {
    if (!child.connected) return void socket?.destroy();
    child.send(message, socket, undefined, (err) => err && socket?.destroy());
  };

  let listeners: net.Server[] = [];
  child.on('error', (err) => {
    log.error({ err: err.message }, 'bubblewrap did not start');
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    log.info({ code, signal }, 'sandbox ended');
    for (const l of listeners) l.close();
    process.exit(code ?? 1);
  });
  // what the workspace sends is not trusted: anything but a socket for a known door is dropped
  child.on('message', (message: FromBridge, handle: unknown) => {
    if (!(handle instanceof net.Socket)) return;
    if (message?.type === 'api') splice(handle, connectApi());
    else if (message?.type === 'egress' && egress) egress.accept(handle);
    else handle.destroy();
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => toBridge({ type: 'stop' }));

  try {
    listeners = await Promise.all(spec.appPorts.map((port) => listenOnHost(port, (socket) => toBridge({ type: 'app', port }, socket))));
  } catch (err) {
    log.error({ err: (err as Error).message }, 'an app port is taken on the host');
    child.kill('SIGKILL');
  }
}

main().catch((err) => {
  process.stderr.write(`workspace supervisor: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
