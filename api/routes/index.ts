import type { ApiApp } from '../app';
import type { AppDeps } from '../context';

// Each resource registers its routes here, under both /api/v2 and /api/experimental.
export function registerApiRoutes(api: ApiApp, deps: AppDeps): void {
  void api;
  void deps;
}
