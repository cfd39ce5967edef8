// What the Temporal server did during one level of a benchmark, from its Prometheus endpoint: the
// requests its frontend answered (StartWorkflowExecution, UpdateWorkflowExecution,
// RespondWorkflowTaskCompleted, polls…) and the persistence calls its services made (history
// appends, visibility writes, task-queue reads…), each a count per lifecycle. The CPU table says how
// much Temporal worked; these say on what — the part a workflow's shape decides.

/** counters by `operation`, summed over the labels that are not compared */
export interface TemporalCounts {
  frontend: Record<string, number>;
  persistence: Record<string, number>;
  /** what the history service wrote, in bytes (histogram sums): mutable state, event batches… */
  bytes: Record<string, number>;
}

/** the size histograms worth comparing between two workflow shapes */
const SIZES = ['mutable_state_size', 'execution_info_size', 'event_blob_size', 'activity_info_size', 'timer_info_size', 'memo_size', 'history_size'];
const SIZE_LINE = /^([a-z_]+)_sum\{[^}]*\}\s+([0-9.e+]+)$/;

const LINE = /^(service_requests|persistence_requests)\{([^}]*)\}\s+([0-9.e+]+)$/;

/** `name="value",…` → { name: value } */
function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/** Parses a Prometheus text page into the two request counters, by operation. */
export function parseTemporalCounts(page: string): TemporalCounts {
  const out: TemporalCounts = { frontend: {}, persistence: {}, bytes: {} };
  for (const line of page.split('\n')) {
    const size = SIZE_LINE.exec(line);
    if (size && SIZES.includes(size[1])) out.bytes[size[1]] = (out.bytes[size[1]] ?? 0) + Number(size[2]);
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = labelsOf(m[2]);
    const op = labels.operation;
    if (!op) continue;
    if (m[1] === 'service_requests') {
      if (labels.service_name !== 'frontend') continue;
      out.frontend[op] = (out.frontend[op] ?? 0) + Number(m[3]);
    } else {
      out.persistence[op] = (out.persistence[op] ?? 0) + Number(m[3]);
    }
  }
  return out;
}

export async function scrapeTemporalCounts(url: string): Promise<TemporalCounts> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return parseTemporalCounts(await res.text());
}

/** (after − before) ÷ lifecycles, leaving out operations that did not move. */
export function countsPerLifecycle(before: TemporalCounts, after: TemporalCounts, lifecycles: number): TemporalCounts {
  const diff = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const [op, v] of Object.entries(b)) {
      const d = v - (a[op] ?? 0);
      if (d > 0) out[op] = Math.round((d / Math.max(lifecycles, 1)) * 100) / 100;
    }
    return Object.fromEntries(Object.entries(out).sort((x, y) => y[1] - x[1]));
  };
  return {
    frontend: diff(before.frontend, after.frontend),
    persistence: diff(before.persistence, after.persistence),
    bytes: diff(before.bytes, after.bytes),
  };
}
