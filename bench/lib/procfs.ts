import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

// Where the CPU and memory went, read from Linux's /proc. Elsewhere every reading is null and the
// reports say "n/a" rather than a made-up figure.

let clockTicks: number | undefined;

/** Kernel clock ticks per second (the unit of /proc/<pid>/stat's times), usually 100. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatTimes {
  /** own user + system time, seconds */
  self: number;
  /** user + system time of children it has waited for (exited backends of a postmaster), seconds */
  reaped: number;
}

function statTimes(pid: number): StatTimes | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) may contain spaces and parentheses: fields start after its last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime = 14, stime = 15, cutime = 16, cstime = 17
  const at = (n: number) => Number(fields[n - 3]);
  const hz = ticksPerSecond();
  return { self: (at(14) + at(15)) / hz, reaped: (at(16) + at(17)) / hz };
}

/** CPU seconds a process used, its exited children included. */
export function cpuSeconds(pid: number): number | null {
  const t = statTimes(pid);
  return t === null ? null : t.self + t.reaped;
}

/** CPU seconds of a process group that forks workers (PostgreSQL): the leader, its reaped and its live children. */
export function groupCpuSeconds(leader: number, members: number[]): number | null {
  const head = statTimes(leader);
  if (head === null) return null;
  let total = head.self + head.reaped;
  for (const pid of members) {
    if (pid === leader) continue;
    total += statTimes(pid)?.self ?? 0;
  }
  return total;
}

function statusField(pid: number, field: string): number | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) in bytes since start or since the last resetPeakRss. */
export function peakRssBytes(pid: number): number | null {
  return statusField(pid, 'VmHWM');
}

export function rssBytes(pid: number): number | null {
  return statusField(pid, 'VmRSS');
}

/** Resets VmHWM to the current RSS (Linux: "5" in clear_refs), so each phase gets its own peak. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Seconds of CPU the hypervisor gave to other guests while this machine's vCPUs wanted to run
 * (/proc/stat's steal column, all CPUs): on a shared host, the reason the same code runs slower.
 */
export function stolenSeconds(): number | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    // cpu user nice system idle iowait irq softirq steal …
    const steal = Number(cpu[8]);
    return cpu[0] === 'cpu' && Number.isFinite(steal) ? steal / ticksPerSecond() : null;
  } catch {
    return null;
  }
}

/** The 1-minute load average, the disturbance indicator each report records. */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a!, b!, c!];
  } catch {
    return [NaN, NaN, NaN];
  }
}
