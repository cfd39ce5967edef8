import { UsageError, splitList, type OptionSpec } from './command';

// Output of list-like commands: an aligned table with upper-case headers (columns chosen with -c)
// or JSON (-o json), the two formats of Coder's CLI.

export type OutputFormat = 'table' | 'json';

export function outputOption(): OptionSpec {
  return { type: 'string', short: 'o', description: 'Output format.', default: 'table', choices: ['table', 'json'] };
}

export function columnOption(defaults: string[], available: string[]): OptionSpec {
  return {
    type: 'string',
    short: 'c',
    multiple: true,
    placeholder: 'columns',
    description: `Columns to display in table output, comma-separated. Available: ${available.join(', ')}.`,
    default: defaults.join(','),
  };
}

/** The columns asked for with -c (or the defaults), checked against those that exist. */
export function pickColumns(requested: string[], defaults: string[], available: string[], commandPath: string): string[] {
  const cols = requested.length > 0 ? splitList(requested) : defaults;
  for (const c of cols) {
    if (!available.includes(c)) {
      throw new UsageError(`unknown column "${c}"; available columns: ${available.join(', ')}`, commandPath);
    }
  }
  return cols.length > 0 ? cols : defaults;
}

/**
 * Renders rows as an aligned table. Multi-line cells (log contents) keep their line breaks,
 * continuing under their own column, so long outputs stay readable. Columns are at least as wide
 * as their header even when it is left out, so rows printed later (--watch, --follow) line up.
 */
export function renderTable(
  columns: string[],
  rows: Record<string, string>[],
  opts: { header?: boolean; widths?: number[] } = {},
): string {
  const header = opts.header !== false;
  const cells = rows.map((r) => columns.map((c) => (r[c] ?? '').replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n')));
  const widths = columns.map((c, i) =>
    Math.max(c.length, opts.widths?.[i] ?? 0, ...cells.map((row) => Math.max(...row[i].map((line) => line.length)))),
  );
  // a caller printing a table piece by piece passes the same array each time: columns only widen
  if (opts.widths) opts.widths.splice(0, widths.length, ...widths);
  const out: string[] = [];
  const line = (parts: string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]))).join('  ').trimEnd();
  if (header) out.push(line(columns.map((c) => c.toUpperCase())));
  for (const row of cells) {
    const height = Math.max(...row.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(row.map((c) => c[k] ?? '')));
  }
  return out.join('\n');
}

export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Go's time.Duration.String() of a whole number of seconds: "45s", "1m5s", "2h0m3s". */
export function goDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  if (s === 0) return '0s';
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** "5s ago" from a timestamp, as Coder's task tables show state changes. */
export function ago(timestamp: string | undefined | null, now = Date.now()): string {
  if (!timestamp) return '';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '' : `${goDuration(now - t)} ago`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Local time as "Jan _2 15:04:05" (Go's time.Stamp), the way Coder's CLI prints moments. */
export function stamp(date: Date | string): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
