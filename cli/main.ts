// The taskd command line. `taskd start` runs the whole system locally; the other commands are the
// client of a running server. Command modules load on demand, so client commands start quickly
// (require, not import(): the installed bin runs through tsx's CommonJS hook, where a dynamic
// import() would bypass tsx and fail to resolve the extensionless .ts paths).
import { runCommand } from './run';

type StartModule = typeof import('./start');
type AuthModule = typeof import('./auth-commands');
type TemplatesModule = typeof import('./templates');
type TaskModule = typeof import('./task-command');
type AgentModule = typeof import('./agent');

const USAGE = `Usage: taskd <command>

Commands:
  start       Start PostgreSQL, Temporal, the worker and the API on this machine
  login       Log in to a taskd server (creating its first user if it has none)
  logout      Log out and forget the stored credentials
  whoami      Show the server and the user you are logged in as
  templates   Manage templates (create, list, versions create)
  task        Manage tasks (create, list, status, logs, send, pause, resume, delete); alias: tasks
  agent       Run the workspace agent (taskd agent --url … --token …)

Run "taskd <command> --help" for the flags of a command.
`;

function main(argv: string[]) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return (require('./start') as StartModule).runStartCommand();
    case 'login':
      return runCommand(() => (require('./auth-commands') as AuthModule).runLogin(rest));
    case 'logout':
      return runCommand(() => (require('./auth-commands') as AuthModule).runLogout(rest));
    case 'whoami':
      return runCommand(() => (require('./auth-commands') as AuthModule).runWhoami(rest));
    case 'templates':
    case 'template':
      return runCommand(() => (require('./templates') as TemplatesModule).runTemplatesCommand(rest));
    case 'task':
    case 'tasks':
      return runCommand(() => (require('./task-command') as TaskModule).runTaskCommand(rest));
    case 'agent':
      return (require('./agent') as AgentModule).runAgentCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`taskd: unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2));
