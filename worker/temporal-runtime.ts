import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

// The Temporal Rust core and the SDK log through the process-wide Runtime. Installed once, before
// the first NativeConnection, it forwards both into our pino logger, keeping warnings and errors:
// the core's info chatter (pollers, sticky queues) is noise in taskd's logs. Given an address, the
// core also serves its worker metrics there in Prometheus' format, which the worker's /metrics
// appends to its own (worker/metrics.ts).

let installed = false;

const BENIGN = /^No workflows registered, not polling for workflow tasks/;

const PINO_METHOD = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

export function installTemporalRuntime(log: Logger, opts: { metricsAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  const temporalLog = log.child({ component: 'temporal' });
  const forward = (entry: LogEntry) => {
    // task tokens are opaque base64 blobs: long, and of no use to a reader
    const { sdkComponent, taskToken: _token, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
    // a worker that serves only activities (the host queue) is not worth a warning
    const level = BENIGN.test(entry.message) ? 'DEBUG' : entry.level;
    temporalLog[PINO_METHOD[level]]({ ...meta, ...(sdkComponent ? { sdk: sdkComponent } : {}) }, entry.message);
  };
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', forward),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} },
        // Prometheus' conventions, as taskd's own families follow them: seconds, unit and _total suffixes
        ...(opts.metricsAddress
          ? { metrics: { prometheus: { bindAddress: opts.metricsAddress, useSecondsForDurations: true, unitSuffix: true, countersTotalSuffix: true } } }
          : {}),
      },
    });
  } catch (err) {
    // another part of this process installed a Runtime first; its logger stays in charge
    temporalLog.debug({ err }, 'Temporal runtime was already installed');
  }
}
