// Strategy 1 of spec §6.1: ask an Anthropic model for a short task name. This file performs
// network I/O through an injected fetch, so only activities or the API may call it, never
// workflow code. Naming must never block task creation: every failure falls back to the
// deterministic strategies of task-name.ts.

import {
  DISPLAY_NAME_MAX_RUNES,
  TASK_NAME_STEM_MAX_BYTES,
  capitalizeFirst,
  generateTaskName,
  taskNameSuffix,
  truncateRunes,
  validateTaskName,
  type TaskName,
} from './task-name';
import { trimSpace } from './go-text';
import { utf8Head } from './utf8';

export const DEFAULT_NAMING_MODEL = 'claude-3-5-haiku-latest';
const ANTHROPIC_VERSION = '2023-06-01';
// Two short JSON strings fit comfortably; a cap keeps a chatty model cheap and fast.
const MAX_OUTPUT_TOKENS = 100;
const PLACEHOLDER_NAME = 'task-unnamed';
const PLACEHOLDER_DISPLAY_NAME = 'Task Unnamed';

const SYSTEM_PROMPT = `You name coding tasks. Read the task prompt you are given and reply with a JSON object that has exactly two string fields:
- "display_name": a human-friendly title for the task, at most 64 characters, describing its main action and subject;
- "task_name": a slug closely matching the display name, made only of lowercase letters, digits and single hyphens, at most 27 characters.
Example: for "Please fix the flaky login test in the auth service" reply {"display_name": "Fix flaky auth login test", "task_name": "fix-auth-login-test"}.
If the prompt gives you nothing to name, reply {"display_name": "${PLACEHOLDER_DISPLAY_NAME}", "task_name": "${PLACEHOLDER_NAME}"}.
Reply with the JSON object only, without any other text.`;

/** The subset of the Fetch API this module uses; the global fetch satisfies it. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface LlmNamingOptions {
  /** Without a key the model is not consulted (the reference reads ANTHROPIC_API_KEY). */
  apiKey?: string;
  /** Defaults to Claude 3.5 Haiku (the reference reads ANTHROPIC_MODEL). */
  model?: string;
  fetch: FetchLike;
  baseUrl?: string;
  signal?: AbortSignal;
  rand?: () => number;
  /** Told why the model's answer was not used; naming itself carries on regardless. */
  onError?: (error: unknown) => void;
}

class NamingError extends Error {
  override name = 'NamingError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function responseText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.content)) throw new NamingError('response has no content');
  return body.content
    .map((block: unknown) => (isRecord(block) && block.type === 'text' && typeof block.text === 'string' ? block.text : ''))
    .join('');
}

/** Parses the model's JSON, tolerating a Markdown code fence around it. */
export function parseNamingReply(text: string): { taskName: string; displayName: string } {
  const trimmed = text.trim();
  const fenced = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?\s*```$/.exec(trimmed);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fenced?.[1] ?? trimmed);
  } catch {
    throw new NamingError('reply is not JSON');
  }
  if (!isRecord(parsed) || typeof parsed.task_name !== 'string' || typeof parsed.display_name !== 'string') {
    throw new NamingError('reply lacks task_name/display_name strings');
  }
  return { taskName: parsed.task_name.trim(), displayName: parsed.display_name.trim() };
}

/** Turns a model reply into a valid TaskName, or throws NamingError explaining why not. */
export function taskNameFromReply(text: string, rand: () => number): TaskName {
  const { taskName, displayName } = parseNamingReply(text);
  if (taskName === '' || taskName === PLACEHOLDER_NAME) throw new NamingError(`unusable task_name "${taskName}"`);
  if (displayName === '' || displayName === PLACEHOLDER_DISPLAY_NAME) {
    throw new NamingError(`unusable display_name "${displayName}"`);
  }
  const stem = utf8Head(taskName, TASK_NAME_STEM_MAX_BYTES).replace(/-+$/, '');
  const name = `${stem}-${taskNameSuffix(rand)}`;
  const invalid = validateTaskName(name);
  if (invalid !== null) throw new NamingError(`generated name "${name}" is invalid: ${invalid}`);
  // Models overshoot length limits now and then; cut like strategy 2 rather than discard.
  const shortened = trimSpace(
    truncateRunes(displayName, DISPLAY_NAME_MAX_RUNES, { fullWords: true, ellipsis: true }),
  );
  return { name, displayName: capitalizeFirst(shortened || taskName.replaceAll('-', ' ')) };
}

async function askModel(prompt: string, opts: LlmNamingOptions, apiKey: string, rand: () => number): Promise<TaskName> {
  const baseUrl = (opts.baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '');
  const res = await opts.fetch(`${baseUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION },
    body: JSON.stringify({
      model: opts.model || DEFAULT_NAMING_MODEL,
      max_tokens: MAX_OUTPUT_TOKENS,
      system: SYSTEM_PROMPT,
      messages: [{ role: 'user', content: prompt }],
    }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!res.ok) throw new NamingError(`model API answered HTTP ${res.status}`);
  return taskNameFromReply(responseText(await res.json()), rand);
}

/**
 * §6.1 in full: the model's suggestion when an API key is configured and the answer is
 * usable, otherwise the prompt-derived or random name. Never rejects (as long as `rand`
 * itself does not throw).
 */
export async function generateTaskNameWithLlm(prompt: string, opts: LlmNamingOptions): Promise<TaskName> {
  const rand = opts.rand ?? Math.random;
  if (opts.apiKey) {
    try {
      return await askModel(prompt, opts, opts.apiKey, rand);
    } catch (error) {
      try {
        opts.onError?.(error);
      } catch {
        // A failing logger must not turn a naming fallback into a failed task creation.
      }
    }
  }
  return generateTaskName(prompt, rand);
}
