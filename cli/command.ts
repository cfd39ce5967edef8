import { parseArgs } from 'node:util';

// A small layer over node:util parseArgs: every command declares its flags once, and gets
// validation, environment fallbacks, defaults and a --help page from that declaration.

/** An error the user caused or can fix; printed without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong flags or arguments: exit code 2 and a pointer to --help. */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly commandPath: string,
  ) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  default?: string | boolean;
  /** environment variables consulted (first set wins) when the flag is absent */
  env?: string[];
  hidden?: boolean;
  choices?: readonly string[];
  /** the value's name in --help, e.g. "string" */
  placeholder?: string;
}

export interface CommandSpec {
  /** e.g. "task create" */
  path: string;
  /** the positional part of the usage line, e.g. "<task> [<input>]" */
  args?: string;
  summary: string;
  description?: string;
  aliases?: string[];
  options?: Record<string, OptionSpec>;
  examples?: [description: string, command: string][];
  positionals?: { min: number; max: number };
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help.' };

/** Parsed flags with typed accessors (parseArgs' own result type is too loose to be useful). */
export class Flags {
  constructor(private readonly values: Record<string, string | boolean | string[] | undefined>) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.values[name] === true || this.values[name] === 'true';
  }

  strings(name: string): string[] {
    const v = this.values[name];
    if (Array.isArray(v)) return v;
    return typeof v === 'string' ? [v] : [];
  }
}

export interface Parsed {
  flags: Flags;
  args: string[];
}

/** Parses argv for spec; returns null after printing the help page when --help was asked for. */
export function parseCommand(spec: CommandSpec, argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed | null {
  const options = { ...spec.options, help: HELP_OPTION };
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(options)) {
    config[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('. To specify')[0], spec.path);
  }
  const values = { ...parsed.values } as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) {
    process.stdout.write(renderHelp(spec));
    return null;
  }
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    if (values[name] === undefined) {
      const fromEnv = o.env?.map((e) => env[e]).find((v) => v !== undefined && v !== '');
      if (fromEnv !== undefined) values[name] = o.type === 'boolean' ? ['1', 'true', 'yes'].includes(fromEnv.toLowerCase()) : fromEnv;
      else if (o.default !== undefined) values[name] = o.default;
    }
    const v = values[name];
    if (o.choices && typeof v === 'string' && !o.choices.includes(v)) {
      throw new UsageError(`invalid value "${v}" for --${name}: must be one of ${o.choices.join(', ')}`, spec.path);
    }
  }
  const args = parsed.positionals;
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  if (args.length < min) throw new UsageError(`missing argument: expected ${spec.args ?? 'arguments'}`, spec.path);
  if (args.length > max) {
    throw new UsageError(`unexpected argument${args.length - max > 1 ? 's' : ''}: ${args.slice(max).join(' ')}`, spec.path);
  }
  return { flags: new Flags(values), args };
}

function flagLabel(name: string, o: OptionSpec): string {
  const value = o.type === 'string' ? ` ${o.placeholder ?? (o.choices ? o.choices.join('|') : 'string')}` : '';
  return `${o.short ? `-${o.short}, ` : '    '}--${name}${value}`;
}

export function renderHelp(spec: CommandSpec): string {
  const lines = [`Usage: taskd ${spec.path}${spec.args ? ` ${spec.args}` : ''}${spec.options ? ' [flags]' : ''}`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  if (spec.aliases?.length) lines.push('', `Aliases: ${spec.aliases.join(', ')}`);
  const options = Object.entries({ ...spec.options, help: HELP_OPTION }).filter(([, o]) => !o.hidden);
  const labels = options.map(([name, o]) => flagLabel(name, o));
  const width = Math.max(...labels.map((l) => l.length));
  lines.push('', 'Flags:');
  options.forEach(([, o], i) => {
    const extras: string[] = [];
    if (o.default !== undefined && o.default !== false && o.default !== '') extras.push(`default: ${String(o.default)}`);
    if (o.env?.length) extras.push(o.env.map((e) => `$${e}`).join(', '));
    if (o.multiple) extras.push('repeatable');
    lines.push(`  ${labels[i].padEnd(width)}   ${o.description}${extras.length ? ` (${extras.join('; ')})` : ''}`);
  });
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const [description, command] of spec.examples) lines.push(`  # ${description}`, `  $ ${command}`, '');
    lines.pop();
  }
  return `${lines.join('\n')}\n`;
}

/** Help page of a command group such as `taskd task`. */
export function renderGroupHelp(path: string, summary: string, commands: [name: string, summary: string][], aliases?: string[]): string {
  const width = Math.max(...commands.map(([n]) => n.length));
  const lines = [`Usage: taskd ${path} <command> [flags]`, '', summary];
  if (aliases?.length) lines.push('', `Aliases: ${aliases.join(', ')}`);
  lines.push('', 'Commands:', ...commands.map(([n, s]) => `  ${n.padEnd(width)}   ${s}`));
  lines.push('', `Run "taskd ${path} <command> --help" for the flags of a command.`);
  return `${lines.join('\n')}\n`;
}

/** Splits `-c a,b -c c` style values into a flat, trimmed, lower-cased list. */
export function splitList(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v.length > 0);
}

/** Go-style durations for hidden interval flags: "1s", "250ms", "2m". */
export function parseDuration(value: string, flag: string, commandPath: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim());
  if (!m) throw new UsageError(`invalid duration "${value}" for --${flag} (examples: 500ms, 1s, 2m)`, commandPath);
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  if (n < 10) throw new UsageError(`--${flag} must be at least 10ms`, commandPath);
  return n;
}
