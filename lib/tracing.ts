import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { Logger } from './logger';

// OpenTelemetry traces of a taskd process, exported over OTLP (HTTP/protobuf) when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names a collector, and not
// set up at all otherwise: without one, no SDK module is loaded, no interceptor is registered and
// no span is made. A request's trace runs from the API's HTTP span (api/middleware/http-tracing.ts)
// through the Temporal client's start/update span, whose context travels in the workflow's headers,
// to the workflow's spans (made in the workflow sandbox and handed out through a sink) and each
// activity's, using Temporal's own interceptors (@temporalio/interceptors-opentelemetry).

/** Whether this process's environment asks for traces. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** A running tracer provider and what the Temporal client and worker need to join its traces. */
export interface Tracing {
  /** the Temporal client's interceptors: start, update and signal calls carry the caller's span */
  clientInterceptors(): WorkflowClientInterceptor[];
  /** activity interceptors: each execution is a span, child of the workflow's schedule span */
  activityInterceptors(): ActivityInterceptorsFactory[];
  /** the module a workflow bundle includes to make the workflow's spans */
  readonly workflowModule: string;
  /** the sink through which the workflow sandbox hands its ended spans to this process's exporter */
  workflowSinks(): InjectedSinks<OpenTelemetrySinks>;
  /** exports what is still buffered, and stops */
  shutdown(): Promise<void>;
}

let started: Promise<Tracing> | undefined;

/**
 * Sets up this process's tracer provider (once) when the environment asks for traces, else null.
 * `serviceName` is the default of `service.name`; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
 */
export async function startTracing(serviceName: string, log: Logger): Promise<Tracing | null> {
  if (!tracingConfigured()) return null;
  started ??= setUp(serviceName, log);
  return started;
}

/** The OpenTelemetry workflow interceptor module, for a bundle built before a worker starts. */
export function workflowTracingModules(): string[] {
  return tracingConfigured() ? [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] : [];
}

async function setUp(serviceName: string, log: Logger): Promise<Tracing> {
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, resources, { OTLPTraceExporter }, temporalOtel] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const resource = resources.Resource.default()
    .merge(new resources.Resource({ 'service.name': serviceName }))
    .merge(resources.detectResourcesSync({ detectors: [resources.hostDetectorSync, resources.envDetectorSync] }));
  // the exporter reads the endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_*,
  // and the processor its batch sizes and delay from OTEL_BSP_*
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // the global provider, an AsyncLocalStorage context manager and W3C trace-context propagation
  provider.register();
  const [workflowModule] = workflowTracingModules();
  log.info({ service: resource.attributes['service.name'] }, 'OpenTelemetry traces are exported over OTLP');
  return {
    clientInterceptors: () => [new temporalOtel.OpenTelemetryWorkflowClientInterceptor()],
    activityInterceptors: () => [
      (ctx) => ({
        inbound: new temporalOtel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new temporalOtel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowModule,
    workflowSinks: () => ({ exporter: temporalOtel.makeWorkflowExporter(spanProcessor, resource) }),
    shutdown: () => provider.shutdown(),
  };
}
