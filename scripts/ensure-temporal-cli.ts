// Fetches the pinned Temporal CLI into .tools/ unless TEMPORAL_CLI or a `temporal` on PATH is available.
// `npm start` and `npm test` do the same on demand; this makes the download a separate, visible step.
import path from 'node:path';
import { ensureTemporalCli } from '../devstack/temporal-cli';
import { createLogger } from '../lib/logger';

ensureTemporalCli({ toolsDir: path.join(__dirname, '..', '.tools'), log: createLogger('warn', 'tools'), say: (line) => console.log(line) })
  .then((cli) => console.log(`temporal CLI: ${cli}`))
  .catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
