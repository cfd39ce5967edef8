import os from 'node:os';
import { CliError, parseCommand, UsageError, type CommandSpec, type Flags } from './command';
import { ConnectionError, during, TaskdClient, toApiError } from './client';
import { currentSession, deleteCredentials, normalizeUrl, writeCredentials, authenticatedClient } from './credentials';
import { renderJson, writeOut } from './output';
import { ask, askSecret } from './prompt';

// `taskd login | logout | whoami`. Login sets up the first user when the server has none (as
// `coder login` does), otherwise signs in with email/password or takes an existing token, and
// stores {url, session_token} in the user's config folder.

interface User {
  id: string;
  username: string;
  email: string;
}

export const loginSpec: CommandSpec = {
  path: 'login',
  args: '[<url>]',
  summary: 'Log in to a taskd server (creating its first user if it has none)',
  description:
    'Credentials are stored in $XDG_CONFIG_HOME/taskd/credentials.json (default ~/.config/taskd/) with mode 0600.\n' +
    'TASKD_URL and TASKD_SESSION_TOKEN override the stored values for every command.',
  positionals: { min: 0, max: 1 },
  options: {
    token: { type: 'string', description: 'Use an existing session token or API key instead of a password.' },
    email: { type: 'string', description: 'Email address to log in with.', env: ['TASKD_EMAIL'] },
    password: { type: 'string', description: 'Password to log in with.', env: ['TASKD_PASSWORD'] },
    'first-user-email': {
      type: 'string',
      description: 'Email of the first user, when the server has none yet.',
      env: ['TASKD_FIRST_USER_EMAIL', 'CODER_FIRST_USER_EMAIL'],
    },
    'first-user-username': {
      type: 'string',
      description: 'Username of the first user.',
      env: ['TASKD_FIRST_USER_USERNAME', 'CODER_FIRST_USER_USERNAME'],
    },
    'first-user-full-name': {
      type: 'string',
      description: 'Full name of the first user (optional).',
      env: ['TASKD_FIRST_USER_FULL_NAME', 'CODER_FIRST_USER_FULL_NAME'],
    },
    'first-user-password': {
      type: 'string',
      description: 'Password of the first user.',
      env: ['TASKD_FIRST_USER_PASSWORD', 'CODER_FIRST_USER_PASSWORD'],
    },
  },
  examples: [
    ['Log in interactively', 'taskd login http://localhost:3000'],
    ['Set up a fresh server without prompts', 'taskd login http://localhost:3000 --first-user-username admin --first-user-email admin@example.com --first-user-password "…"'],
    ['Log in with an API key', 'taskd login https://taskd.example.com --token "$KEY"'],
  ],
};

export const logoutSpec: CommandSpec = { path: 'logout', summary: 'Log out: revoke the session token and forget the stored credentials' };

export const whoamiSpec: CommandSpec = {
  path: 'whoami',
  summary: 'Show the server and the user you are logged in as',
  options: { output: { type: 'string', short: 'o', description: 'Output format.', default: 'text', choices: ['text', 'json'] } },
};

const missing = (what: string, flag: string) => `missing ${what}: pass ${flag}`;

async function value(flags: Flags, flag: string, question: string, opts: { secret?: boolean; default?: string } = {}) {
  const given = flags.string(flag);
  if (given !== undefined && given !== '') return given;
  const what = missing(question.toLowerCase(), `--${flag}`);
  return opts.secret ? askSecret(question, what) : ask(question, { default: opts.default, what });
}

async function createFirstUser(client: TaskdClient, flags: Flags): Promise<{ email: string; password: string }> {
  process.stderr.write('This server has no users yet: creating the first user (the site owner).\n');
  const username = await value(flags, 'first-user-username', 'Username', { default: os.userInfo().username });
  const email = await value(flags, 'first-user-email', 'Email');
  let password = flags.string('first-user-password');
  if (!password) {
    password = await value(flags, 'first-user-password', 'Password', { secret: true });
    if ((await askSecret('Confirm password')) !== password) throw new CliError('passwords do not match');
  }
  const name = flags.string('first-user-full-name');
  await during('create first user', () => client.post('/users/first', { email, username, password, ...(name ? { name } : {}) }));
  process.stderr.write(`Created the first user ${username}.\n`);
  return { email, password };
}

export async function runLogin(argv: string[]): Promise<void> {
  const parsed = parseCommand(loginSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  const target = args[0] ?? currentSession().url;
  if (!target) throw new UsageError('missing argument: the server URL', loginSpec.path);
  const url = normalizeUrl(target);
  const anonymous = new TaskdClient(url);

  let token = flags.string('token');
  if (!token) {
    const first = await anonymous.raw('GET', '/users/first');
    let email: string;
    let password: string;
    if (first.status === 404) {
      ({ email, password } = await createFirstUser(anonymous, flags));
    } else if (first.status === 200) {
      email = await value(flags, 'email', 'Email');
      password = await value(flags, 'password', 'Password', { secret: true });
    } else {
      const err = toApiError(first);
      err.context.push(`${url} does not answer like a taskd server`);
      throw err;
    }
    token = (await during('log in', () => anonymous.post<{ session_token: string }>('/users/login', { email, password }))).session_token;
  }
  const me = await during('check the session token', () => anonymous.withToken(token).get<User>('/users/me'));
  const file = writeCredentials({ url, session_token: token });
  writeOut(`Welcome to taskd, ${me.username}! You're authenticated (credentials saved in ${file}).`);
}

export async function runLogout(argv: string[]): Promise<void> {
  if (!parseCommand(logoutSpec, argv)) return;
  const { url, token } = currentSession();
  if (url && token) {
    // revoking is best effort: the local credentials go away even if the server is unreachable
    await new TaskdClient(url, token).raw('POST', '/users/logout').catch((err: unknown) => {
      if (!(err instanceof ConnectionError)) throw err;
    });
  }
  const removed = deleteCredentials();
  writeOut(removed ? 'You are no longer logged in.' : 'You were not logged in.');
  if (process.env.TASKD_SESSION_TOKEN) process.stderr.write('Note: TASKD_SESSION_TOKEN is still set in your environment.\n');
}

export async function runWhoami(argv: string[]): Promise<void> {
  const parsed = parseCommand(whoamiSpec, argv);
  if (!parsed) return;
  const client = authenticatedClient();
  const me = await during('get the current user', () => client.get<User & Record<string, unknown>>('/users/me'));
  if (parsed.flags.string('output') === 'json') writeOut(renderJson({ url: client.baseUrl, user: me }));
  else writeOut(`Logged in to ${client.baseUrl} as ${me.username} (${me.email}).`);
}
