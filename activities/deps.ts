import type { Orm } from '../db/orm';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';

/** What every activity factory is given: the worker's config, ORM and logger. */
export interface ActivityDeps {
  config: Config;
  orm: Orm;
  log: Logger;
}
