// What a sandboxed workspace may reach on the internet, as the operator states it in
// TASKD_WORKSPACE_EGRESS. The workspace's only way out is taskd's egress proxy, which asks
// hostAllowed() for every destination; loopback and private addresses are refused there whatever
// this policy says, because that is where the server's own services listen.

export type EgressPolicy =
  /** no proxy at all: the workspace has no outbound network */
  | { mode: 'none' }
  /** any host on the public internet */
  | { mode: 'public' }
  /** only these hosts: "example.com" exactly, "*.example.com" any name below it */
  | { mode: 'allow'; hosts: string[] };

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** "public" (also empty), "none", or a comma-separated host list; throws naming a bad entry. */
export function parseEgressPolicy(value: string | undefined): EgressPolicy {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === 'public') return { mode: 'public' };
  if (text === 'none') return { mode: 'none' };
  const hosts = text.split(',').map((h) => h.trim()).filter((h) => h !== '');
  const bad = hosts.find((h) => !HOST_PATTERN.test(h));
  if (bad !== undefined) {
    throw new Error(`"${bad}" is not a host name or *.domain pattern (expected "public", "none" or a comma-separated host list)`);
  }
  return { mode: 'allow', hosts };
}

export function hostAllowed(policy: EgressPolicy, host: string): boolean {
  if (policy.mode !== 'allow') return policy.mode === 'public';
  const name = host.toLowerCase().replace(/\.$/, '');
  return policy.hosts.some((h) => (h.startsWith('*.') ? name.endsWith(h.slice(1)) : name === h));
}
