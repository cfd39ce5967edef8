import type { ApiApp, AppDeps } from '../../context';
import { ApiError } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { resolveUserParam } from '../../tasks/params';
import { registerListTasksRoute } from './list';
import { registerCreateTaskRoute } from './create';
import { registerReadDeleteRoutes } from './read-delete';
import { registerInputRoute } from './input';
import { registerSendRoute } from './send';
import { registerLogsRoute } from './logs';
import { registerLifecycleRoutes } from './lifecycle';

// The Tasks API (spec §3), one file per group of endpoints; what they share lives in api/tasks/.

export function registerTaskRoutes(api: ApiApp, deps: AppDeps): void {
  registerListTasksRoute(api, deps);
  registerCreateTaskRoute(api, deps);
  registerReadDeleteRoutes(api, deps);
  registerInputRoute(api, deps);
  registerSendRoute(api, deps);
  registerLogsRoute(api, deps);
  registerLifecycleRoutes(api, deps);

  // An empty {task} segment ("/tasks/me/", "/tasks/me//logs") matches none of the routes above;
  // Coder resolves {user} and then answers 400, so these paths do the same (and stay out of the
  // OpenAPI document).
  api.on(
    ['GET', 'DELETE', 'PATCH', 'POST'],
    ['/tasks/:user/', '/tasks/:user//:action'],
    requireUser,
    async (c) => {
      await resolveUserParam(c.get('em'), c.get('actor'), c.req.param('user') ?? '');
      throw new ApiError(400, '"task" must be provided.');
    },
  );
}
