import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from './config';
import { withoutPreparedStatements } from './sql';

export type Orm = MikroORM;

/**
 * connect: false lets a process start while the database is still down; the pool connects on first use.
 * preparedStatements: false leaves every statement unnamed (db/sql.ts), for a pooler that cannot keep them.
 */
export async function openOrm(opts: { url: string; poolMax?: number; connect?: boolean; preparedStatements?: boolean }): Promise<Orm> {
  const orm = await MikroORM.init({ ...ormOptions(opts), connect: opts.connect ?? true });
  if (opts.preparedStatements === false) withoutPreparedStatements(orm);
  // A failed statement's error names the statement with its placeholders, not its values: knex
  // otherwise splices every bound value (a prompt, an email, a client address) into the message,
  // and error messages end up in logs.
  (orm.em.getKnex().client as { config: { compileSqlOnError?: boolean } }).config.compileSqlOnError = false;
  return orm;
}

/** Applies pending migrations; safe to run concurrently (MikroORM serialises on its lock table). */
export async function migrate(orm: Orm): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}

export async function pendingMigrations(orm: Orm): Promise<string[]> {
  return (await orm.getMigrator().getPendingMigrations()).map((m) => m.name);
}
