import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { loadAverage } from './procfs';

// What a figure was measured on: figures from different machines or a busy machine are not
// comparable, so every report starts with this.

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1, 5 and 15-minute load averages when the run started */
  loadAtStart: [number, number, number];
  commit: string;
}

function gitCommit(): string {
  const cwd = path.resolve(__dirname, '..', '..');
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (+ uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAtStart: loadAverage(),
    commit: gitCommit(),
  };
}

export function machineMarkdown(m: MachineInfo): string {
  return [
    `- date: ${m.date}`,
    `- machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`,
    `- load average at start: ${m.loadAtStart.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`,
    `- commit: ${m.commit}`,
  ].join('\n');
}
