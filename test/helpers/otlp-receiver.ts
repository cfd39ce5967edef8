// A collector's OTLP/HTTP trace receiver, as small as tests need: POST /v1/traces with a protobuf
// body (decoded with the exporter's own generated protobuf code) or a JSON one, kept as flat spans.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import otlpRoot from '@opentelemetry/otlp-transformer/build/src/generated/root';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  /** OTLP's numbering: 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** what OTEL_EXPORTER_OTLP_ENDPOINT names */
  endpoint: string;
  spans: ReceivedSpan[];
  /** requests it could not read (each one fails the test that looks) */
  errors: string[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
/** ExportTraceServiceRequest as protobufjs' toObject and OTLP/JSON both spell it (ids: base64 or hex) */
interface TraceRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; attributes?: KeyValue[] }[] }[];
  }[];
}

type ProtoMessage = { decode(buf: Uint8Array): unknown; toObject(m: unknown, o: object): unknown };
const ExportTraceServiceRequest = (
  otlpRoot as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoMessage } } } } } }
).opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

function attributes(list: KeyValue[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value = {} } of list) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? '';
  }
  return out;
}

function flatten(req: TraceRequest, id: (s: string) => string): ReceivedSpan[] {
  return (req.resourceSpans ?? []).flatMap((rs) => {
    const service = String(attributes(rs.resource?.attributes)['service.name'] ?? '');
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        service,
        traceId: id(s.traceId),
        spanId: id(s.spanId),
        parentSpanId: s.parentSpanId ? id(s.parentSpanId) : '',
        name: s.name,
        kind: s.kind ?? 0,
        attributes: attributes(s.attributes),
      })),
    );
  });
}

function decode(type: string, body: Buffer): ReceivedSpan[] {
  if (/json/.test(type)) return flatten(JSON.parse(body.toString('utf8')) as TraceRequest, (hex) => hex.toLowerCase());
  const message = ExportTraceServiceRequest.decode(body);
  const plain = ExportTraceServiceRequest.toObject(message, { longs: String, enums: Number, bytes: String }) as TraceRequest;
  return flatten(plain, (b64) => Buffer.from(b64, 'base64').toString('hex'));
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const errors: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        errors.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      const type = req.headers['content-type'] ?? '';
      try {
        spans.push(...decode(type, Buffer.concat(chunks)));
      } catch (err) {
        errors.push(`${type}: ${(err as Error).message}`);
        res.writeHead(400).end();
        return;
      }
      // an empty ExportTraceServiceResponse: every span accepted
      res.writeHead(200, { 'content-type': /json/.test(type) ? 'application/json' : 'application/x-protobuf' });
      res.end(/json/.test(type) ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    errors,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
