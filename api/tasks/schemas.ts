import { z } from '@hono/zod-openapi';
import { workspaceBuildSchema } from '../dto/workspace-build';
import { queuedInputSchema } from '../dto/task';
import { SPACE_CLASS } from '../../domain/go-text';

// Request and response schemas of the /tasks routes (spec §1.3). Request fields are lenient where
// Go's decoder is: a missing or null string is "", so the handlers, not the schema, produce
// Coder's messages ("Task input is required." and the like).

const lenientString = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

export const userParams = z.object({
  user: z.string().openapi({ param: { name: 'user', in: 'path' }, description: '"me", a user id or a username' }),
});

export const taskParams = userParams.extend({
  task: z.string().openapi({ param: { name: 'task', in: 'path' }, description: 'Task id, or task name of {user}' }),
});

// What the handlers accept, for the document (the parsing stays lenient, above).
const uuidText = { type: 'string', format: 'uuid' } as const;

export const createTaskRequest = z
  .object({
    // an unknown or unreadable version is 400 "Template version not found or you do not have access
    // to this resource", as in Coder
    template_version_id: lenientString.openapi(uuidText),
    /** Coder's SDK always sends it, with the nil UUID meaning "no preset" */
    template_version_preset_id: lenientString,
    input: lenientString,
    name: lenientString,
    display_name: lenientString,
  })
  .openapi('CreateTaskRequest', { required: ['template_version_id'] });

/** POST send: empty input is 400 "Task input is required.". */
export const taskInputRequest = z.object({ input: lenientString.openapi({ type: 'string', minLength: 1 }) }).openapi('TaskInputRequest', { required: ['input'] });
/** PATCH input: so is input of nothing but whitespace (Go's strings.TrimSpace). */
export const updateTaskInputRequest = z
  .object({ input: lenientString.openapi({ type: 'string', pattern: `^[^\\u0000]*[^${SPACE_CLASS}\\u0000][^\\u0000]*$` }) })
  .openapi('UpdateTaskInputRequest', { required: ['input'] });

export const listTasksQuery = z.object({
  q: z.string().optional().openapi({
    description:
      'Search query, e.g. owner:"me" status:"active". As in Coder, a malformed term, or an owner (also a bare word) or ' +
      'organization the caller cannot see, is 400 "Invalid task search query." with a validation each',
  }),
  limit: z.string().optional().openapi({ description: 'Beyond Coder: page size (1-1000); omit for the whole list', pattern: '^([1-9][0-9]{0,2}|1000)?$' }),
  offset: z.string().optional().openapi({ description: 'Beyond Coder: tasks to skip', pattern: '^[0-9]{0,15}$' }),
  after_id: z
    .string()
    .optional()
    .openapi({ description: 'Beyond Coder: list the tasks after this task id', pattern: '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$' }),
});

export const taskLogEntrySchema = z
  .object({ id: z.number().int(), content: z.string(), type: z.enum(['input', 'output']), time: z.string() })
  .openapi('TaskLogEntry');

export const taskLogsResponse = z
  .object({
    logs: z.array(taskLogEntrySchema),
    snapshot: z.literal(true).optional(),
    snapshot_at: z.string().optional(),
    /** beyond Coder: inputs queued for the app and not in the conversation yet, oldest first (only when there are any) */
    queued: z.array(queuedInputSchema).optional(),
  })
  .openapi('TaskLogsResponse');

export const buildResponse = z.object({ workspace_build: workspaceBuildSchema }).openapi('PauseTaskResponse');
