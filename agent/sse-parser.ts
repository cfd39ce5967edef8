// Incremental text/event-stream parser (WHATWG "event stream interpretation"), fed arbitrary
// chunks: network reads split lines, CRLF pairs and events anywhere.

export type SseFrame = { event: string; data: string };

export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`event larger than ${limit} characters`);
    this.name = 'SseEventTooLargeError';
  }
}

export class SseParser {
  private line = '';
  private event = '';
  private data: string[] = [];
  private size = 0;
  // A chunk ending in CR may be the first half of a CRLF; the LF must not count as a blank line.
  private skipLeadingLf = false;

  /** `maxEventChars` bounds the memory one event may take, before it is complete. */
  constructor(
    private readonly onFrame: (frame: SseFrame) => void,
    private readonly maxEventChars: number,
  ) {}

  push(chunk: string): void {
    if (chunk === '') return;
    let start = 0;
    if (this.skipLeadingLf && chunk.startsWith('\n')) start = 1;
    this.skipLeadingLf = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.line += chunk.slice(start, i);
      this.checkSize();
      this.processLine(this.line);
      this.line = '';
      if (c === 0x0d) {
        if (i + 1 === chunk.length) this.skipLeadingLf = true;
        else if (chunk.charCodeAt(i + 1) === 0x0a) i++;
      }
      start = i + 1;
    }
    this.line += chunk.slice(start);
    this.checkSize();
  }

  private checkSize(): void {
    if (this.size + this.line.length > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
  }

  private processLine(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') {
      this.event = value;
      this.size += value.length;
    } else if (field === 'data') {
      this.data.push(value);
      this.size += value.length + 1;
    }
    // id and retry are meaningless for AgentAPI, whose reconnect is always a full replay.
  }

  private dispatch(): void {
    const frame = this.data.length > 0 ? { event: this.event || 'message', data: this.data.join('\n') } : null;
    this.event = '';
    this.data = [];
    this.size = 0;
    if (frame) this.onFrame(frame);
  }
}
