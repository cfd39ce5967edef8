import { performance } from 'node:perf_hooks';
import { cpuSeconds, groupCpuSeconds, peakRssBytes, resetPeakRss, rssBytes, stolenSeconds } from './procfs';
import type { BenchProcess } from './stack';

// Where the cores and the memory went during one phase of a benchmark: CPU seconds per process
// (the benchmark's own process included, since it shares the machine) and the peak RSS of each
// single-process server.

export interface Usage {
  wallS: number;
  /** CPU seconds per process name, plus "bench" (this process: load generator and watchers) */
  cpuS: Record<string, number | null>;
  /** peak RSS in bytes per process name; PostgreSQL (many processes sharing memory) is left out */
  peakRss: Record<string, number | null>;
  /** CPU seconds the host's hypervisor took from this machine meanwhile (all vCPUs), when known */
  stolenS?: number | null;
}

function readCpu(processes: BenchProcess[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const p of processes) out[p.name] = p.name === 'postgres' ? groupCpuSeconds(p.pid, p.members()) : cpuSeconds(p.pid);
  const self = process.cpuUsage();
  out.bench = (self.user + self.system) / 1e6;
  return out;
}

export class UsageMeter {
  private readonly cpuAtStart: Record<string, number | null>;
  private readonly stolenAtStart = stolenSeconds();
  private readonly startedAt = performance.now();
  private readonly sampled = new Map<string, number>();
  private readonly sampler: NodeJS.Timeout;
  private readonly hwmReset = new Set<string>();

  constructor(private readonly processes: BenchProcess[]) {
    for (const p of processes) if (p.name !== 'postgres' && resetPeakRss(p.pid)) this.hwmReset.add(p.name);
    this.cpuAtStart = readCpu(processes);
    // when VmHWM cannot be reset, the peak of this phase is the highest RSS seen by sampling
    this.sampler = setInterval(() => {
      for (const p of processes) {
        if (p.name === 'postgres' || this.hwmReset.has(p.name)) continue;
        const rss = rssBytes(p.pid);
        if (rss !== null) this.sampled.set(p.name, Math.max(this.sampled.get(p.name) ?? 0, rss));
      }
    }, 200);
  }

  stop(): Usage {
    clearInterval(this.sampler);
    const end = readCpu(this.processes);
    const cpuS: Record<string, number | null> = {};
    for (const [name, v] of Object.entries(end)) {
      const before = this.cpuAtStart[name];
      cpuS[name] = v === null || before === null || before === undefined ? null : v - before;
    }
    const peakRss: Record<string, number | null> = {};
    for (const p of this.processes) {
      if (p.name === 'postgres') continue;
      peakRss[p.name] = this.hwmReset.has(p.name) ? peakRssBytes(p.pid) : (this.sampled.get(p.name) ?? null);
    }
    const stolen = stolenSeconds();
    const stolenS = stolen === null || this.stolenAtStart === null ? null : stolen - this.stolenAtStart;
    return { wallS: (performance.now() - this.startedAt) / 1000, cpuS, peakRss, stolenS };
  }
}
