import { z } from 'zod';

// taskd's own template format (issue 3): validated at the API edge, stored as JSON on the template
// version, read by the provisioner drivers and the workspace agent.

const slug = z
  .string()
  .regex(/^[a-z0-9](-?[a-z0-9])*$/, 'must be lowercase letters and digits, optionally separated by single hyphens')
  .max(32, 'must be <= 32 characters');

const healthcheck = z
  .object({
    url: z.string().min(1).optional(),
    path: z.string().startsWith('/', 'must start with "/"').optional(),
    interval_s: z.number().int().min(1).max(3600).default(3),
    threshold: z.number().int().min(1).max(1000).default(20),
  })
  .refine((h) => (h.url === undefined) !== (h.path === undefined), {
    message: 'exactly one of "url" or "path" is required',
  });

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const appDefinitionSchema = z.object({
  slug,
  display_name: z.string().max(64).optional(),
  /** shell command the workspace agent runs; it gets PORT in its environment */
  command: z.string().min(1).max(4096).optional(),
  /** fixed URL for apps the agent does not start; otherwise http://127.0.0.1:$PORT */
  url: z.string().url().optional(),
  healthcheck: healthcheck.optional(),
});

/** How a `docker` workspace's container is made; the image must carry a C library Node runs on (glibc). */
export const dockerDefinitionSchema = z.object({
  /** image reference as dockerd knows it; taskd never pulls, so it must be on the Docker host already */
  image: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[^\s]+$/, 'must not contain whitespace')
    // for the OpenAPI document, which also says no NUL (the API refuses it)
    .meta({ pattern: '^[^\\s\\u0000]+$' }),
  /** CPU limit in cores (0.5 = half a core); none by default */
  cpus: z.number().min(0.01).max(512).optional(),
  /** memory limit in MiB, swap included; none by default */
  memory_mb: z.number().int().min(16).max(4 * 1024 * 1024).optional(),
  /** most processes and threads the container may have at once, against fork bombs */
  pids_limit: z.number().int().min(16).max(1_000_000).default(4096),
  /** how long a stop waits after SIGTERM before SIGKILL (the agent uploads its log snapshot meanwhile) */
  stop_grace_s: z.number().int().min(0).max(600).optional(),
});

export const workspaceDefinitionSchema = z
  .object({
    provisioner: z.enum(['process', 'echo', 'external', 'docker']),
    /** how a process-driver workspace is confined: bubblewrap (the default), or not at all */
    sandbox: z.enum(['bubblewrap', 'none']).optional(),
    env: z
      .record(z.string().regex(ENV_NAME, 'invalid variable name'), z.string())
      // the key rule for the OpenAPI document, whose generator does not carry a record's key schema
      .meta({ propertyNames: { pattern: ENV_NAME.source } })
      .optional(),
    apps: z.array(appDefinitionSchema).max(16).default([]),
    ai_task: z.object({ app: slug }).optional(),
    auto_pause: z.object({ idle_timeout_s: z.number().int().min(1).max(30 * 24 * 3600) }).optional(),
    timeouts: z
      .object({
        /** agent lifecycle must reach ready within this many seconds of the build succeeding */
        agent_ready_s: z.number().int().min(1).max(24 * 3600).default(300),
        /** the task app must turn healthy within this many seconds of the agent being ready */
        app_healthy_s: z.number().int().min(1).max(24 * 3600).default(300),
      })
      .optional(),
    docker: dockerDefinitionSchema.optional(),
    echo: z
      .object({
        /** delay each build job by this long (per transition, or for all) */
        delay_ms: z.number().int().min(0).max(600_000).optional(),
        /** fail builds of these transitions with a provisioner error */
        fail: z.array(z.enum(['start', 'stop', 'delete'])).optional(),
        /** lifecycle the agent reaches on its own (default ready); "none" leaves it to a real agent */
        agent_lifecycle: z.enum(['ready', 'start_error', 'start_timeout', 'none']).optional(),
        /** health the task app reports on its own (default healthy) */
        app_health: z.enum(['healthy', 'unhealthy', 'initializing']).optional(),
      })
      .optional(),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.apps.forEach((a, i) => {
      if (seen.has(a.slug)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'slug'], message: `duplicate app slug "${a.slug}"` });
      seen.add(a.slug);
    });
    if (d.provisioner === 'docker' && !d.docker) {
      ctx.addIssue({ code: 'custom', path: ['docker'], message: 'the docker provisioner needs "docker": { "image": ... }' });
    }
    if (d.ai_task && !seen.has(d.ai_task.app)) {
      ctx.addIssue({ code: 'custom', path: ['ai_task', 'app'], message: `no app with slug "${d.ai_task.app}"` });
    }
  });

export type WorkspaceDefinition = z.infer<typeof workspaceDefinitionSchema>;
export type AppDefinition = z.infer<typeof appDefinitionSchema>;
export type DockerDefinition = z.infer<typeof dockerDefinitionSchema>;

/** has_ai_task is true exactly when ai_task names one of the apps (validation guarantees it names one). */
export function hasAiTask(d: WorkspaceDefinition): boolean {
  return d.ai_task !== undefined && d.apps.some((a) => a.slug === d.ai_task!.app);
}

/** Coder-style validations from a zod error: one {field, detail} per issue, field as a dotted path. */
export function toValidations(error: z.ZodError): { field: string; detail: string }[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', detail: i.message }));
}
