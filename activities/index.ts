import type { Orm } from '../db/orm';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';

export interface ActivityDeps {
  config: Config;
  orm: Orm;
  log: Logger;
}

/** Every side effect a task workflow performs; each one idempotent under retry. */
export function createActivities(deps: ActivityDeps) {
  void deps;
  return {};
}

export type TaskActivities = ReturnType<typeof createActivities>;
