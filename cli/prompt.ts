import readline from 'node:readline';
import { CliError } from './command';

// Terminal questions: plain answers, hidden passwords, yes/no confirmations. Prompts need a
// terminal on stdin; in a pipe or CI they refuse clearly instead of consuming piped data or hanging.

export function stdinIsTerminal(): boolean {
  return process.stdin.isTTY === true;
}

export class PromptUnavailableError extends CliError {}

function requireTerminal(what: string): void {
  if (!stdinIsTerminal()) throw new PromptUnavailableError(`${what}: stdin is not a terminal, so taskd cannot ask`);
}

export async function ask(question: string, opts: { default?: string; what?: string } = {}): Promise<string> {
  requireTerminal(opts.what ?? `cannot ask "${question}"`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const suffix = opts.default ? ` (${opts.default})` : '';
    const answer = await new Promise<string>((resolve, reject) => {
      rl.once('SIGINT', () => reject(new CliError('interrupted', 130)));
      rl.question(`${question}${suffix}: `, resolve);
    });
    return answer.trim() || opts.default || '';
  } finally {
    rl.close();
  }
}

/** Reads a line without echoing it (passwords). */
export async function askSecret(question: string, what?: string): Promise<string> {
  requireTerminal(what ?? `cannot ask "${question}"`);
  const stdin = process.stdin;
  process.stderr.write(`${question}: `);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            return resolve(value);
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(new CliError('interrupted', 130));
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (ch >= ' ') value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/**
 * Asks "<question> (yes/no)" unless skip is set. Without a terminal and without -y it refuses,
 * because silently assuming "yes" for a destructive action is worse than failing.
 */
export async function confirm(question: string, skip: boolean): Promise<void> {
  if (skip) return;
  if (!stdinIsTerminal()) {
    throw new CliError(`${question.replace(/\?$/, '')}: confirmation needed, but stdin is not a terminal; pass -y/--yes to proceed`);
  }
  const answer = (await ask(`${question} (yes/no)`)).toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new CliError('canceled');
}

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
