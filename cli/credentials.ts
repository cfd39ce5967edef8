import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './command';
import { TaskdClient } from './client';

// Where `taskd login` keeps the server URL and session token: one small JSON file in the user's
// config folder, readable by the user only. TASKD_URL / TASKD_SESSION_TOKEN override it, so CI
// and scripts need no file at all.

export interface Credentials {
  url: string;
  session_token: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'taskd');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'credentials.json');
}

export function readCredentials(env: NodeJS.ProcessEnv = process.env): Partial<Credentials> {
  const file = credentialsPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<Credentials>;
    return {
      url: typeof parsed.url === 'string' ? parsed.url : undefined,
      session_token: typeof parsed.session_token === 'string' ? parsed.session_token : undefined,
    };
  } catch {
    throw new CliError(`${file} is not valid JSON; run "taskd logout" and log in again`);
  }
}

export function writeCredentials(creds: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsPath(env);
  // write a fresh 0600 file and rename it over the old one, so the token is never world-readable,
  // not even briefly, and a crash cannot leave half a file
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return file;
}

/** Removes the stored credentials; false when there were none. */
export function deleteCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    fs.unlinkSync(credentialsPath(env));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A server URL as typed by a user: a missing scheme means https, as with `coder login`. */
export function normalizeUrl(input: string): string {
  const trimmed = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new CliError(`invalid URL "${input}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`invalid URL "${input}": use http:// or https://`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** The server URL and token in effect: environment first, then the credentials file. */
export function currentSession(env: NodeJS.ProcessEnv = process.env): { url?: string; token?: string } {
  const file = readCredentials(env);
  return {
    url: env.TASKD_URL ? normalizeUrl(env.TASKD_URL) : file.url,
    token: env.TASKD_SESSION_TOKEN || file.session_token,
  };
}

/** A client for commands that need a logged-in user. */
export function authenticatedClient(env: NodeJS.ProcessEnv = process.env): TaskdClient {
  const { url, token } = currentSession(env);
  if (!url || !token) {
    throw new CliError('You are not logged in. Run "taskd login <url>" (or set TASKD_URL and TASKD_SESSION_TOKEN).');
  }
  return new TaskdClient(url, token);
}
