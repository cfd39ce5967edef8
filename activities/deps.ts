import { ApplicationFailure } from '@temporalio/common';
import type { Orm } from '../db/orm';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';

// What every activity factory is given and how an activity says "retrying cannot help".

/** The worker's config, ORM and logger. */
export interface ActivityDeps {
  config: Config;
  orm: Orm;
  log: Logger;
}

/** A business failure: retrying cannot change the answer, so Temporal must not retry. */
export function businessFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
