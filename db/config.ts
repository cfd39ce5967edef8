import path from 'node:path';
import { defineConfig, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ALL_ENTITIES } from './entities';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** MikroORM options shared by the API, the worker, the CLI and the tests. */
export function ormOptions(opts: { url: string; poolMax?: number; debug?: boolean }) {
  return defineConfig({
    driver: PostgreSqlDriver,
    clientUrl: opts.url,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    pool: { min: 0, max: opts.poolMax ?? 10 },
    // entities never cross the API or Temporal boundary, so identity-map sharing is a bug, not a feature
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: opts.debug ?? false,
    discovery: { warnWhenNoEntities: true },
    migrations: {
      path: MIGRATIONS_DIR,
      pathTs: MIGRATIONS_DIR,
      glob: '!(*.d).{js,ts}',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      silent: true,
    },
  });
}
