import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from './config';

export type Orm = MikroORM;

export async function openOrm(opts: { url: string; poolMax?: number }): Promise<Orm> {
  return MikroORM.init(ormOptions(opts));
}

/** Applies pending migrations; safe to run concurrently (MikroORM serialises on its lock table). */
export async function migrate(orm: Orm): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}

export async function pendingMigrations(orm: Orm): Promise<string[]> {
  return (await orm.getMigrator().getPendingMigrations()).map((m) => m.name);
}
