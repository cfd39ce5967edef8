import type { EgressPolicy } from '../../domain/egress-policy';

// The sandbox has a network of its own with nothing on it but its loopback, so every connection
// that crosses its edge is carried by the supervisor: connected sockets travel over the Node IPC
// channel between the supervisor (on the host's network) and the bridge inside the sandbox. No
// socket file is shared, so there is no path in the sandbox's reach that the host side follows.

/** What the supervisor hands the process it starts inside the sandbox (as JSON in its environment). */
export interface SandboxSpec {
  workspaceId: string;
  /** host folder mounted read-write at WORKSPACE_MOUNT */
  workspaceDir: string;
  /** host folders mounted read-only at the same path: the taskd checkout (the agent's code) and Node */
  readOnly: string[];
  /** host paths below those folders that stay out of sight (the data folder, when it is in the checkout) */
  hidden: string[];
  /** folder with the passwd and group files the sandbox sees */
  identityDir: string;
  /** the taskd API the workspace agent reports to */
  accessUrl: string;
  agentToken: string;
  /** ports of the apps the agent runs: the host's 127.0.0.1:<port> reaches the sandbox's */
  appPorts: number[];
  egress: EgressPolicy;
  /** environment of the workspace agent and its apps, before the sandbox's own variables */
  env: Record<string, string>;
}

export const SPEC_ENV = 'TASKD_SANDBOX_SPEC';
/** inside the sandbox: the loopback ports the bridge listens on, as JSON ({api, proxy}) */
export const BRIDGE_ENV = 'TASKD_SANDBOX_BRIDGE';
export const WORKSPACE_MOUNT = '/workspace';

export interface InnerPorts {
  api: number;
  proxy: number | null;
}

/** supervisor → bridge: a host connection for an app port, or the request to stop */
export type ToBridge = { type: 'app'; port: number } | { type: 'stop' };
/** bridge → supervisor: a connection the workspace opened to the taskd API or to the egress proxy */
export type FromBridge = { type: 'api' } | { type: 'egress' };

/**
 * Loopback ports for the bridge's own listeners inside the sandbox, clear of the apps' ports (which
 * the apps bind there, being the same numbers as on the host).
 */
export function innerPorts(appPorts: readonly number[], egress: boolean): InnerPorts {
  const free = (from: number) => {
    let port = from;
    while (appPorts.includes(port)) port++;
    return port;
  };
  const api = free(20_080);
  return { api, proxy: egress ? free(api + 1) : null };
}
