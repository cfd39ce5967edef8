import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { jsonContent } from '../dto/common';
import pkg from '../../package.json';

// Coder clients compare the server's version with their own and, in a few places, only trust a
// response that carries the X-Coder-Build-Version header. taskd reports the Coder release whose API
// it implements and checks against (compat/coder/go.mod pins that release for the compatibility
// tier), with its own version as semver build metadata; the CLI warns only when major.minor differ.
export const CODER_COMPAT_VERSION = 'v2.36.0';
export const BUILD_VERSION = `${CODER_COMPAT_VERSION}+taskd.${pkg.version}`;
export const BUILD_VERSION_HEADER = 'X-Coder-Build-Version';
/** the agent API generation the workspace agent speaks (taskd's HTTP agent API) */
export const AGENT_API_VERSION = '1.0';

const BuildInfoSchema = z
  .object({
    version: z.string(),
    external_url: z.string(),
    dashboard_url: z.string(),
    telemetry: z.boolean(),
    workspace_proxy: z.boolean(),
    agent_api_version: z.string(),
    provisioner_api_version: z.string(),
    upgrade_message: z.string(),
    deployment_id: z.string(),
  })
  .openapi('BuildInfoResponse');

export function registerBuildInfoRoutes(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/buildinfo',
      tags: ['General'],
      summary: 'Build information (no authentication)',
      responses: { 200: jsonContent(BuildInfoSchema, 'OK') },
    }),
    (c) => {
      c.header(BUILD_VERSION_HEADER, BUILD_VERSION);
      return c.json(
        {
          version: BUILD_VERSION,
          // Coder links its release notes here; taskd links its own API reference
          external_url: `${deps.config.http.accessUrl}/api/v2/docs`,
          dashboard_url: deps.config.http.accessUrl,
          telemetry: false,
          workspace_proxy: false,
          agent_api_version: AGENT_API_VERSION,
          provisioner_api_version: '1.0',
          upgrade_message: '',
          deployment_id: '',
        },
        200,
      );
    },
  );
}
