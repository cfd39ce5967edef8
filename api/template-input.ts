import { z } from '@hono/zod-openapi';
import { ApiError } from './errors';

// What a template request may carry: Coder's name rules, taskd's presets, and the search grammar of
// GET /templates.

export const UNIQUE_DETAIL = 'This value is already in use and should be unique.';

/** The rule across fields of a template's workspace that its schema cannot state (declared with the 400). */
export const AI_TASK_APP_400 =
  '`workspace.ai_task.app` must be the slug of one of `workspace.apps`: else 400 "Validation failed." with a validation on `workspace.ai_task.app`.';

export const templateNameSchema = z
  .string()
  .min(1, 'must be >= 1 character')
  .max(32, 'must be <= 32 characters')
  .regex(/^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/, 'must be alphanumeric with hyphens');

export const templateDisplayNameSchema = z
  .string()
  .max(64, 'must be <= 64 characters')
  .regex(/^(?:\S(?:.*\S)?)?$/, 'must not start or end with whitespace')
  // the same for the document, where it also says no NUL (refused by the validation hook)
  .openapi({ pattern: '^(?:[^\\s\\u0000](?:[^\\n\\r\\u2028\\u2029\\u0000]*[^\\s\\u0000])?)?$' });

export const versionNameSchema = z
  .string()
  .min(1)
  .max(64, 'must be <= 64 characters')
  .regex(/^[a-zA-Z0-9]+(?:[_.-][a-zA-Z0-9]+)*$/, 'must be letters and digits separated by single "_", "." or "-"');

export const presetsSchema = z
  .array(
    z.object({
      name: z.string().trim().min(1).max(64),
      // (the key rule repeated for the document, whose generator does not carry a record's key schema)
      parameters: z.record(z.string().min(1).max(128), z.string().max(4096)).meta({ propertyNames: { minLength: 1, maxLength: 128 } }).default({}),
    }),
  )
  .max(32)
  .superRefine((presets, ctx) => {
    const seen = new Set<string>();
    presets.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate preset name "${p.name}"` });
      seen.add(p.name);
    });
  });

export interface TemplateQuery {
  organization?: string;
  exactName?: string;
  fuzzyName?: string;
  hasAiTask?: boolean;
  deprecated?: boolean;
}

const BOOL = { true: true, false: false } as const;

/** Coder's template search `q`: space-separated key:value terms (values may be double-quoted). */
export function parseTemplateQuery(q: string | undefined): TemplateQuery {
  const out: TemplateQuery = {};
  const validations: { field: string; detail: string }[] = [];
  const terms = (q ?? '').match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  for (const term of terms) {
    const idx = term.indexOf(':');
    const key = idx < 0 ? 'name' : term.slice(0, idx).toLowerCase();
    const value = (idx < 0 ? term : term.slice(idx + 1)).replace(/"/g, '');
    const bool = BOOL[value.toLowerCase() as keyof typeof BOOL];
    switch (key) {
      case 'organization':
        out.organization ??= value;
        break;
      case 'exact_name':
        out.exactName ??= value;
        break;
      case 'name':
        out.fuzzyName ??= value;
        break;
      case 'has-ai-task':
      case 'deprecated':
        if (bool === undefined) validations.push({ field: key, detail: `Query param "${key}" must be a valid boolean` });
        else if (key === 'has-ai-task') out.hasAiTask ??= bool;
        else out.deprecated ??= bool;
        break;
      default:
        validations.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
    }
  }
  if (validations.length > 0) throw new ApiError(400, 'Invalid template search query.', undefined, validations);
  return out;
}
