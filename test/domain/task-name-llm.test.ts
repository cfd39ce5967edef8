import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DEFAULT_NAMING_MODEL,
  type FetchLike,
  generateTaskNameWithLlm,
  parseNamingReply,
} from '../../domain/task-name-llm';
import { generateTaskName } from '../../domain/task-name';

const PROMPT = 'Please fix the flaky login test in the auth service';
const half = () => 0.5;
const fromPromptOnly = generateTaskName(PROMPT, half);

interface Call {
  url: string;
  init: Parameters<FetchLike>[1];
}

/** A fetch that answers every call with `reply` (text content), recording the requests. */
function fakeModel(reply: string, status = 200): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return { ok: status >= 200 && status < 300, status, json: async () => ({ content: [{ type: 'text', text: reply }] }) };
  };
  return { fetch, calls };
}

async function name(reply: string, errors: unknown[] = []) {
  const { fetch } = fakeModel(reply);
  return generateTaskNameWithLlm(PROMPT, { apiKey: 'k', fetch, rand: half, onError: (e) => errors.push(e) });
}

describe('generateTaskNameWithLlm: using the model (§6.1 strategy 1)', () => {
  it('sends one bounded Messages API request with the key and default model', async () => {
    const { fetch, calls } = fakeModel('{"display_name":"Fix flaky auth login test","task_name":"fix-auth-login-test"}');
    await generateTaskNameWithLlm(PROMPT, { apiKey: 'sk-test', fetch, rand: half });
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.ok(call);
    assert.equal(call.url, 'https://api.anthropic.com/v1/messages');
    assert.equal(call.init.method, 'POST');
    assert.equal(call.init.headers['x-api-key'], 'sk-test');
    assert.equal(call.init.headers['anthropic-version'], '2023-06-01');
    const body = JSON.parse(call.init.body);
    assert.equal(body.model, DEFAULT_NAMING_MODEL);
    assert.equal(body.max_tokens, 100);
    assert.deepEqual(body.messages, [{ role: 'user', content: PROMPT }]);
    assert.match(body.system, /task_name/);
    assert.match(body.system, /display_name/);
  });

  it('honours a configured model and base URL', async () => {
    const { fetch, calls } = fakeModel('{"display_name":"X","task_name":"x"}');
    await generateTaskNameWithLlm(PROMPT, { apiKey: 'k', model: 'claude-x', baseUrl: 'http://127.0.0.1:9/', fetch, rand: half });
    assert.equal(calls[0]?.url, 'http://127.0.0.1:9/v1/messages');
    assert.equal(JSON.parse(calls[0]?.init.body ?? '{}').model, 'claude-x');
  });

  it('appends the suffix and keeps the display name', async () => {
    assert.deepEqual(await name('{"display_name":"Fix flaky auth login test","task_name":"fix-auth-login-test"}'), {
      name: 'fix-auth-login-test-8000',
      displayName: 'Fix flaky auth login test',
    });
  });

  it('accepts the JSON inside a Markdown code fence', async () => {
    const fenced = '```json\n{"display_name": "Debug Python script", "task_name": "python-debug"}\n```';
    assert.deepEqual(await name(fenced), { name: 'python-debug-8000', displayName: 'Debug Python script' });
    assert.deepEqual(parseNamingReply('```\n{"display_name":"A","task_name":"b"}\n```'), { taskName: 'b', displayName: 'A' });
  });

  it('trims, cuts the name to 27 bytes, drops trailing hyphens and capitalises', async () => {
    const got = await name(`{"display_name":"  analyze q3 sales  ","task_name":"  ${'abcde-'.repeat(5)}  "}`);
    // 27 bytes of "abcde-abcde-abcde-abcde-abcde-" end with a hyphen, which is removed.
    assert.deepEqual(got, { name: 'abcde-abcde-abcde-abcde-abc-8000', displayName: 'Analyze q3 sales' });
    assert.ok(got.name.length <= 32);
  });

  it('shortens an over-long display name instead of discarding the answer', async () => {
    const long = `Refactor ${'the payment reconciliation pipeline '.repeat(3)}`;
    const got = await name(JSON.stringify({ display_name: long, task_name: 'refactor-payments' }));
    assert.equal(got.name, 'refactor-payments-8000');
    assert.ok(Array.from(got.displayName).length <= 64);
    assert.ok(got.displayName.endsWith('…'));
  });
});

describe('generateTaskNameWithLlm: falls back and never throws', () => {
  const rejected: [string, string][] = [
    ['placeholder name', '{"display_name":"Something","task_name":"task-unnamed"}'],
    ['placeholder display name', '{"display_name":"Task Unnamed","task_name":"something"}'],
    ['empty name', '{"display_name":"Something","task_name":"   "}'],
    ['empty display name', '{"display_name":"","task_name":"something"}'],
    ['invalid characters', '{"display_name":"Something","task_name":"Bad Name!"}'],
    ['leading hyphen', '{"display_name":"Something","task_name":"-abc"}'],
    ['not JSON', 'Sure! Here is a name: fix-login'],
    ['wrong field types', '{"display_name":1,"task_name":["x"]}'],
    ['a JSON array', '[]'],
  ];
  for (const [label, reply] of rejected) {
    it(`${label} -> prompt-derived name, error reported`, async () => {
      const errors: unknown[] = [];
      assert.deepEqual(await name(reply, errors), fromPromptOnly);
      assert.equal(errors.length, 1);
    });
  }

  it('an HTTP error status falls back', async () => {
    const { fetch } = fakeModel('{"display_name":"A","task_name":"a"}', 529);
    const errors: unknown[] = [];
    const got = await generateTaskNameWithLlm(PROMPT, { apiKey: 'k', fetch, rand: half, onError: (e) => errors.push(e) });
    assert.deepEqual(got, fromPromptOnly);
    assert.match(String(errors[0]), /529/);
  });

  it('a rejected fetch, a malformed body and a throwing json() all fall back', async () => {
    const fetches: FetchLike[] = [
      async () => {
        throw new Error('ECONNREFUSED');
      },
      async () => ({ ok: true, status: 200, json: async () => ({ nope: true }) }),
      async () => ({ ok: true, status: 200, json: async () => JSON.parse('{') }),
    ];
    for (const fetch of fetches) {
      assert.deepEqual(await generateTaskNameWithLlm(PROMPT, { apiKey: 'k', fetch, rand: half }), fromPromptOnly);
    }
  });

  it('a throwing onError does not escape', async () => {
    const fetch: FetchLike = async () => {
      throw new Error('down');
    };
    const onError = () => {
      throw new Error('logger broke');
    };
    assert.deepEqual(await generateTaskNameWithLlm(PROMPT, { apiKey: 'k', fetch, rand: half, onError }), fromPromptOnly);
  });

  it('without an API key the model is not called', async () => {
    const { fetch, calls } = fakeModel('{"display_name":"A","task_name":"a"}');
    assert.deepEqual(await generateTaskNameWithLlm(PROMPT, { fetch, rand: half }), fromPromptOnly);
    assert.deepEqual(await generateTaskNameWithLlm(PROMPT, { apiKey: '', fetch, rand: half }), fromPromptOnly);
    assert.equal(calls.length, 0);
  });

  it('falls through to the random name when the prompt is unusable too', async () => {
    const fetch: FetchLike = async () => {
      throw new Error('down');
    };
    const got = await generateTaskNameWithLlm('!!!', { apiKey: 'k', fetch, rand: () => 0 });
    assert.deepEqual(got, { name: 'bold-babbage-0000', displayName: 'Bold babbage' });
  });
});
