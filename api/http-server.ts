import type { Duplex } from 'node:stream';

// Requests too malformed for Node's HTTP parser (raw non-ASCII bytes on the request line, headers
// over the 16 KiB limit, a broken chunked body) never reach the app. Node would answer them with a
// bare "400 Bad Request" and no body; this answers in Coder's envelope like every other failure, so
// a client that decodes {message, detail} always can.

interface ClientErrorSource {
  on(event: 'clientError', listener: (err: Error & { code?: string }, socket: Duplex) => void): unknown;
}

const STATUS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request took too long to arrive.'],
};

export function answerMalformedRequests(server: ClientErrorSource): void {
  server.on('clientError', (err, socket) => {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // a peer that went away, or a response already under way, leaves nothing to answer
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = STATUS[err.code ?? ''] ?? [400, 'Bad Request', 'The request could not be parsed.'];
    const body = JSON.stringify({ message, detail: err.code ?? err.message });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
}
