import fs from 'node:fs';
import path from 'node:path';
import { CliError } from './command';

// Template files for `taskd templates create` / `versions create`: JSON or YAML holding the API's
// template definition — either a whole template ({name, workspace, presets, ...}) or just the
// WorkspaceDefinition ({provisioner, apps, ...}). The server validates the contents.

export type TemplateFile = Record<string, unknown>;

function parseYaml(text: string, file: string): unknown {
  // loaded on demand: every other command starts faster without the YAML parser
  const { parse } = require('yaml') as typeof import('yaml');
  try {
    return parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
}

export function readTemplateFile(file: string): TemplateFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  let value: unknown;
  if (ext === '.json') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    // YAML is a superset of JSON, so any other extension is read as YAML
    value = parseYaml(text, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`${file} must contain an object (a template or a workspace definition)`);
  }
  return value as TemplateFile;
}

/** Splits a file into the workspace definition and the template-level fields around it. */
export function splitTemplateFile(doc: TemplateFile): { workspace: unknown; rest: TemplateFile } {
  if ('workspace' in doc) {
    const { workspace, ...rest } = doc;
    return { workspace, rest };
  }
  if ('provisioner' in doc) return { workspace: doc, rest: {} };
  throw new CliError('the file has neither "workspace" (a template) nor "provisioner" (a workspace definition)');
}

/** A default template name from the file name: "my-agent.yaml" → "my-agent". */
export function nameFromFile(file: string): string {
  return path.basename(file).replace(/\.(json|ya?ml)$/i, '');
}
