import net from 'node:net';
import { pipeline } from 'node:stream';
import tls from 'node:tls';

// How a confined workspace's connections cross its edge, for both drivers that confine one: the
// sandbox's supervisor and bridge, and the Docker workspace's API socket on either side of the
// container. Whatever the workspace opens towards the API is carried to the access URL from here.

/** Copies bytes both ways until either side closes; an error on one side ends both. */
export function splice(a: net.Socket, b: net.Socket): void {
  const fail = (err: Error | null) => {
    if (!err) return;
    a.destroy();
    b.destroy();
  };
  pipeline(a, b, fail);
  pipeline(b, a, fail);
}

/** Opens a connection to the taskd API at `accessUrl` (TLS for https), each time it is called. */
export function apiConnector(accessUrl: string): () => net.Socket {
  const url = new URL(accessUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  return () => (secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port }));
}
