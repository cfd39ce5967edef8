import ipaddr from 'ipaddr.js';

// Which client a request comes from when reverse proxies stand in front: the TCP peer, unless that
// peer is a proxy the operator listed (TASKD_TRUSTED_PROXIES), in which case X-Forwarded-For is
// read from the right, skipping the listed proxies, and the first address that is not one of them is
// the client. Without the list, X-Forwarded-For is ignored: any client can write it.

export type TrustedProxies = [ipaddr.IPv4 | ipaddr.IPv6, number][];

/** "10.0.0.1, 10.1.0.0/16, ::1" → ranges; a bad entry throws naming it. */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  if (!value || value.trim() === '') return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      try {
        if (entry.includes('/')) return ipaddr.parseCIDR(entry);
        const addr = ipaddr.parse(entry);
        return [addr, addr.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number];
      } catch {
        throw new Error(`TASKD_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`);
      }
    });
}

function normalized(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    return ipaddr.process(address.trim());
  } catch {
    return null;
  }
}

function trusted(proxies: TrustedProxies, address: string): boolean {
  const addr = normalized(address);
  if (!addr) return false;
  return proxies.some(([range, bits]) => addr.kind() === range.kind() && addr.match([range, bits] as never));
}

/** The client's address: `peer`, or what the trusted proxies in front of it say. */
export function clientAddress(peer: string, forwardedFor: string | undefined, proxies: TrustedProxies): string {
  if (proxies.length === 0 || !trusted(proxies, peer) || !forwardedFor) return peer;
  const hops = forwardedFor.split(',').map((h) => h.trim()).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    const address = normalized(hop);
    if (!address) return peer; // a malformed hop: trust nothing beyond the proxy
    if (!trusted(proxies, hop)) return address.toString();
  }
  return peer;
}
