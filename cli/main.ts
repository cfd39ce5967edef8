// The taskd command line. `taskd start` runs the whole system locally.
import { runStartCommand } from './start';

const USAGE = `Usage: taskd <command>

Commands:
  start    Start PostgreSQL, Temporal, the worker and the API on this machine
`;

function main(argv: string[]) {
  const [command] = argv;
  switch (command) {
    case 'start':
      return runStartCommand();
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
