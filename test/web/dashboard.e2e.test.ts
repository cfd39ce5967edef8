// The dashboard end to end: headless Chromium against the real stack, with the process
// provisioner running the built-in agent from examples/. One user journey, step by step: set up the
// first user, sign in, create a task, watch it become active and answer, talk to it, pause, resume,
// delete — all without reloading the page — and no console errors along the way. Screenshots of the
// main pages are taken on every run; TASKD_UPDATE_SCREENSHOTS=1 writes them to docs/screenshots/
// (committed, linked from the README), otherwise to the run's work folder (kept with TASKD_TEST_KEEP=1)
// so a test run leaves the checkout clean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startTestStack, type TestStack } from '../helpers/stack';
import { launchBrowser, type TestBrowser } from '../helpers/browser';
import { waitFor } from '../helpers/wait';
import { insertTask, sql } from '../helpers/task-rows';

const ROOT = path.resolve(__dirname, '..', '..');
const RUN_SHOTS = path.join(process.env.TASKD_TEST_WORK_DIR ?? os.tmpdir(), 'screenshots');
const SHOTS = process.env.TASKD_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : RUN_SHOTS;
const OWNER = { username: 'octo', email: 'octo@example.com', password: 'correct-horse-9', name: 'Octo Cat' };
const PROMPT = 'Write a haiku about durable workflows';
const FOLLOW_UP = 'Please summarise: retries retries and more retries';
const LIVE = Number(process.env.E2E_LIVE_MS ?? 30_000);

let stack: TestStack;
let browser: TestBrowser;
let page: Page;
let taskPath = '';

async function shot(name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
const badge = (label: string) => page.locator('.task-status .badge', { hasText: label });

// page.evaluate callbacks run in the browser; the test's tsconfig has no DOM types, hence `any`.
/** Set once after sign-in: a reload would lose it, so finding it later proves updates came live. */
async function markPage(): Promise<void> {
  await page.evaluate(() => ((globalThis as any).__live = 1));
}
async function assertNotReloaded(): Promise<void> {
  assert.equal(await page.evaluate(() => (globalThis as any).__live), 1, 'the page was reloaded');
}

async function noHorizontalScroll(): Promise<void> {
  const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
}

before(async () => {
  stack = await startTestStack();
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  // a task left behind by a failed step still has a process tree: delete it through the API
  if (taskPath && stack) {
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: OWNER.email, password: OWNER.password } });
    const token = login.body?.session_token;
    if (token && (await stack.api('DELETE', `/api/v2${taskPath}`, { token })).status === 202) {
      await waitFor(async () => (await stack.api('GET', `/api/v2${taskPath}`, { token })).status === 404, { timeoutMs: 15_000 }).catch(() => {});
    }
  }
  // the last state of the page, for whoever debugs a failure
  await page?.screenshot({ path: path.join(RUN_SHOTS, 'last.png'), fullPage: true }).catch(() => {});
  await browser?.close();
  await stack?.close();
});

describe('dashboard', () => {
  test('is served at / with a strict Content-Security-Policy', async () => {
    const res = await page.goto(`${stack.baseUrl}/`);
    assert.equal(res?.status(), 200);
    const headers = res!.headers();
    assert.match(headers['content-type'], /^text\/html/);
    assert.match(headers['content-security-policy'], /default-src 'none'/);
    assert.match(headers['content-security-policy'], /script-src 'self'(;|$)/);
    const js = await page.request.get(`${stack.baseUrl}/web/app.js`);
    assert.match(js.headers()['content-type'], /^text\/javascript/);
    assert.equal((await page.request.get(`${stack.baseUrl}/web/..%2Fpackage.json`)).status(), 404);
  });

  test('a fresh server asks for the first user, who is then signed in', async () => {
    await heading('Welcome to taskd').waitFor();
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Full name (optional)').fill(OWNER.name);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading('Tasks').waitFor();
    await page.getByText(`Signed in as ${OWNER.username}`).waitFor();
  });

  test('signing out and in again goes through the login page', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in to taskd').waitFor();
    await shot('login');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    // keyboard only: Enter in the password field submits
    await page.getByLabel('Password').press('Enter');
    await heading('Tasks').waitFor();
    await markPage();
    await page.getByText('No tasks yet.').waitFor();
  });

  test('creates a task with the built-in agent and watches it become active without reloading', async () => {
    // an administrator adds the example template (the CLI would do the same through the API)
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: OWNER.email, password: OWNER.password } });
    const token = login.body.session_token;
    const me = await stack.api('GET', '/api/v2/users/me', { token });
    const example = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'builtin-agent-template.json'), 'utf8'));
    const created = await stack.api('POST', `/api/v2/organizations/${me.body.organization_ids[0]}/templates`, { token, body: example });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    await page.getByRole('link', { name: 'New task' }).click();
    await heading('New task').waitFor();
    // each page moves keyboard focus to its heading
    assert.equal(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent), 'New task');
    await page.getByLabel('Template').selectOption({ label: 'Built-in agent' });
    await page.getByLabel('Prompt').fill(PROMPT);
    await page.getByLabel('Name (optional)').fill('haiku-bot');
    await page.getByRole('button', { name: 'Create task' }).click();

    // the heading is the display name (made from the prompt); the name is shown beside it
    await page.locator('.task-meta', { hasText: 'haiku-bot' }).waitFor();
    await heading(/haiku/i).waitFor();
    taskPath = new URL(page.url()).hash.replace(/^#/, '');
    assert.match(taskPath, /^\/tasks\/octo\/[0-9a-f-]{36}$/);
    // while it starts, the phase is shown (the built-in agent takes seconds to boot)
    const starting = page.locator('.banner-starting');
    await starting.waitFor({ timeout: LIVE });
    assert.match(await starting.innerText(), /Starting: (Workspace is|Agent is|App is|Initializing)/);
    await badge('Active').waitFor({ timeout: LIVE });
    await assertNotReloaded();
  });

  test('shows the conversation: the prompt and the reply, newest at the bottom', async () => {
    await page.locator('.message-input', { hasText: PROMPT }).waitFor({ timeout: LIVE });
    const reply = page.locator('.message-output', { hasText: "I'm a scripted demo agent" });
    await reply.waitFor({ timeout: LIVE });
    // Markdown rendered as elements: the quote of the prompt and the bold summary label
    assert.equal(await page.locator('.message-output blockquote', { hasText: PROMPT }).count(), 1);
    assert.ok((await page.locator('.message-output strong', { hasText: 'Summary:' }).count()) >= 1);
    const order = await page.locator('.messages > li').evaluateAll((els) => els.map((e) => e.className));
    assert.match(order.at(-1) ?? '', /message-output/);
    await page.getByRole('button', { name: 'Send' }).and(page.locator(':enabled')).waitFor({ timeout: LIVE });
    await shot('task-active');
    await assertNotReloaded();
  });

  test('sends input and sees the answer', async () => {
    const box = page.getByLabel('Message to the agent');
    await box.fill(FOLLOW_UP);
    // from the keyboard: Ctrl+Enter in the message box sends
    await box.press('Control+Enter');
    await page.locator('.message-input', { hasText: FOLLOW_UP }).waitFor({ timeout: LIVE });
    const answer = page.locator('.message-output', { hasText: 'Most repeated word' });
    await answer.waitFor({ timeout: LIVE });
    assert.match(await answer.innerText(), /retries/);
    assert.equal(await box.inputValue(), '');
    await assertNotReloaded();
  });

  test('the list shows the task live, with status, state, template and age', async () => {
    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await heading('Tasks').waitFor();
    const row = page.locator('table.tasks tbody tr', { hasText: 'haiku-bot' });
    await row.waitFor();
    assert.match(await row.innerText(), /Active/);
    assert.match(await row.innerText(), /Built-in agent/);
    assert.match(await row.innerText(), /ago|just now/);
    // the state line is the first line of the agent's last reply, read as a sentence
    await row
      .locator('td[data-label="Current state"]', { hasText: /^Read your message of \d+ words and summarised it below\.$/ })
      .waitFor({ timeout: LIVE });
    // search by name narrows the list in place
    await page.getByLabel('Search by name').fill('no-such-task');
    await page.getByText('No task matches these filters.').waitFor();
    await page.getByLabel('Search by name').fill('haiku');
    await row.waitFor();
    await shot('tasks');
    await page.setViewportSize({ width: 390, height: 844 });
    await noHorizontalScroll();
    await shot('tasks-narrow');
    await page.setViewportSize({ width: 1280, height: 860 });
    await row.getByRole('link').click();
    await page.locator('.task-meta', { hasText: 'haiku-bot' }).waitFor();
    await assertNotReloaded();
  });

  test('pause: the paused banner and the saved conversation', async () => {
    await page.getByRole('button', { name: 'Pause' }).and(page.locator(':enabled')).waitFor({ timeout: LIVE });
    await page.getByRole('button', { name: 'Pause' }).click();
    await badge('Paused').waitFor({ timeout: LIVE });
    await page.locator('.banner-paused', { hasText: 'Paused.' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Saved conversation' }).waitFor();
    await page.locator('.message-output', { hasText: 'Most repeated word' }).waitFor();
    await page.locator('.message-input', { hasText: PROMPT }).waitFor();
    // a paused task takes input only through the server's queue, which resumes it
    assert.equal(await page.getByRole('button', { name: 'Queue', exact: true }).isEnabled(), true);
    await page.locator('.send-box .hint', { hasText: 'The task is paused: the message is queued' }).waitFor();
    // an input queued (without resume) by another client appears live, and Cancel takes it back
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: OWNER.email, password: OWNER.password } });
    const queued = await stack.api('POST', `/api/v2${taskPath}/send?queue=true`, { token: login.body.session_token, body: { input: 'Queued from elsewhere' } });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    const item = page.locator('.queued-inputs li', { hasText: 'Queued from elsewhere' });
    await item.waitFor({ timeout: LIVE });
    await item.getByRole('button', { name: 'Cancel' }).click();
    await item.waitFor({ state: 'detached', timeout: LIVE });
    assert.equal(await page.getByRole('button', { name: 'Pause' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Resume' }).and(page.locator(':enabled')).waitFor({ timeout: LIVE });
    await shot('task-paused');
    await page.setViewportSize({ width: 390, height: 844 });
    await noHorizontalScroll();
    await page.setViewportSize({ width: 1280, height: 860 });
    await assertNotReloaded();
  });

  test('resume: active again with the conversation kept', async () => {
    await page.getByRole('button', { name: 'Resume' }).click();
    await badge('Active').waitFor({ timeout: LIVE });
    await page.locator('.message-output', { hasText: 'Most repeated word' }).waitFor();
    assert.equal(await page.locator('.banner-paused').count(), 0);
    await assertNotReloaded();
  });

  test("the build log shows what the latest build did, step by step", async () => {
    await page.locator('.build-log summary').click();
    await page.locator('.build-log-note', { hasText: '(start)' }).waitFor({ timeout: LIVE });
    await page.locator('.build-log-line', { hasText: 'Workspace started' }).waitFor({ timeout: LIVE });
    const steps = await page.locator('.build-log-line').allTextContents();
    assert.ok(steps.some((l) => /Starting workspace Build #\d+ of /.test(l)), steps.join('\n'));
    assert.ok(steps.some((l) => /Workspace agent running as process \d+/.test(l)), steps.join('\n'));
    await page.locator('.build-log summary').click();
    await assertNotReloaded();
  });

  test('delete: confirmed, then gone from the list', async () => {
    await page.getByRole('button', { name: 'Delete' }).and(page.locator(':enabled')).waitFor({ timeout: LIVE });
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete task' }).click();
    await heading('Tasks').waitFor();
    await page.getByText('Task haiku-bot was deleted.').waitFor();
    await page.getByText('No tasks yet.').waitFor({ timeout: LIVE });
    taskPath = '';
    await assertNotReloaded();
  });

  test('a page on another port of this host cannot act with the signed-in cookie, nor swap it by a forged login', async () => {
    // the attack a workspace app on a loopback port could mount: same site, so SameSite=Lax sends the cookie
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: OWNER.email, password: OWNER.password } });
    const token = login.body.session_token;
    const mallory = await stack.api('POST', '/api/v2/users', {
      token,
      body: { email: 'mallory@example.com', username: 'mallory', password: 'mallory-password-1' },
    });
    assert.equal(mallory.status, 201);
    const [{ version_id: versionId }] = await sql<{ version_id: string }>(stack, 'select id as version_id from template_versions limit 1');
    const field = (json: Record<string, string>) => {
      const text = JSON.stringify({ ...json, pad: '' });
      // text/plain forms send name=value: the value closes the JSON the name opened
      return `<input type="hidden" name='${text.slice(0, -2)}' value='"}'>`;
    };
    const pages: Record<string, string> = {
      '/task': `<form method="POST" enctype="text/plain" action="${stack.baseUrl}/api/v2/tasks/me">${field({ template_version_id: versionId!, input: 'forged', name: 'forged' })}</form>`,
      '/login': `<form method="POST" enctype="text/plain" action="${stack.baseUrl}/api/v2/users/login">${field({ email: 'mallory@example.com', password: 'mallory-password-1' })}</form>`,
    };
    const evil = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><body>${pages[req.url ?? ''] ?? ''}<script>document.forms[0].submit()</script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const attacker = await browser.context.newPage();
    try {
      const before = (await browser.context.cookies(stack.baseUrl)).find((c) => c.name === 'coder_session_token')?.value;
      assert.ok(before, 'the dashboard signed in with a cookie');
      for (const target of ['/task', '/login']) {
        const answered = attacker.waitForResponse((r) => r.url().startsWith(`${stack.baseUrl}/api/v2/`));
        await attacker.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}${target}`);
        const res = await answered;
        assert.equal(res.status(), 403, target);
        assert.equal((await res.json()).message, 'Cross-site request refused.');
      }
      const tasks = await stack.api('GET', '/api/v2/tasks?q=owner:octo', { token });
      assert.equal(tasks.body.tasks.filter((t: { name: string }) => t.name === 'forged').length, 0);
      const after = (await browser.context.cookies(stack.baseUrl)).find((c) => c.name === 'coder_session_token')?.value;
      assert.equal(after, before, 'the session cookie was not replaced');
    } finally {
      await attacker.close();
      // Chromium keeps a preconnected socket that never carried a request: close() alone waits for
      // the server's headers timeout (about a minute) to drop it
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
    await page.getByText(`Signed in as ${OWNER.username}`).waitFor();
  });

  test('a long list is followed a page at a time; "Show more" widens the page', async () => {
    const [ids] = await sql<{ owner_id: string; org_id: string; template_id: string; version_id: string }>(
      stack,
      `select u.id as owner_id, v.organization_id as org_id, v.template_id, v.id as version_id
         from users u cross join template_versions v where u.username = ? order by v.created_at limit 1`,
      [OWNER.username],
    );
    assert.ok(ids, 'the journey left a user and a template version');
    for (let i = 0; i < 105; i++) {
      await insertTask(stack, {
        ownerId: ids.owner_id,
        orgId: ids.org_id,
        templateId: ids.template_id,
        versionId: ids.version_id,
        name: `bulk-${String(i).padStart(3, '0')}`,
        createdAt: new Date(Date.now() - i * 1000),
      });
    }
    const rows = page.locator('table.tasks tbody tr');
    await page.getByText('Showing the 100 newest of 105 tasks.').waitFor({ timeout: LIVE });
    await page.getByLabel('Search by name').fill(''); // the list test searched for "haiku"
    await rows.nth(99).waitFor();
    assert.equal(await rows.count(), 100);
    assert.equal(await page.locator('table.tasks tbody tr', { hasText: 'bulk-104' }).count(), 0, 'the oldest wait for "Show more"');
    await page.getByRole('button', { name: 'Show 5 more' }).click();
    await page.locator('table.tasks tbody tr', { hasText: 'bulk-104' }).waitFor({ timeout: LIVE });
    assert.equal(await rows.count(), 105);
    assert.equal(await page.locator('.more').count(), 0);
    await assertNotReloaded();
  });

  test('renders Markdown without ever turning message text into markup', async () => {
    const result = await page.evaluate(async () => {
      const md = await import('/web/markdown.js' as string);
      const box = (globalThis as any).document.createElement('div');
      box.append(md.renderMarkdown('<img src=x onerror="alert(1)"> **bold** and `<b>code</b>`\n\n- one\n- two\n\n```\n<script>alert(2)</script>\n```'));
      return { elements: [...box.querySelectorAll('*')].map((e: any) => String(e.tagName).toLowerCase()), text: String(box.textContent) };
    });
    assert.deepEqual(result.elements, ['p', 'strong', 'code', 'ul', 'li', 'li', 'pre', 'code']);
    assert.match(result.text ?? '', /<img src=x onerror="alert\(1\)">/);
    assert.match(result.text ?? '', /<script>alert\(2\)<\/script>/);
  });

  test('a state line drops block markers, renders inline Markdown and ends a trailing colon in an ellipsis', async () => {
    const lines = await page.evaluate(async () => {
      const md = await import('/web/markdown.js' as string);
      return ['- Wrote **three** haikus about `retries`:', '## Plan', '> <b>not markup</b>'].map((text) => {
        const box = (globalThis as any).document.createElement('span');
        box.append(...md.renderStateLine(text));
        return String(box.innerHTML);
      });
    });
    assert.deepEqual(lines, ['Wrote <strong>three</strong> haikus about <code>retries</code>…', 'Plan', '&lt;b&gt;not markup&lt;/b&gt;']);
  });

  test('the API reference renders under its Content-Security-Policy', async () => {
    const res = await page.goto(`${stack.baseUrl}/api/v2/docs`);
    assert.match(res!.headers()['content-security-policy'], /frame-ancestors 'none'/);
    // drawn by the served script from openapi.json: a blocked script or fetch would leave "Loading…"
    await page.getByRole('heading', { level: 2, name: 'Tasks' }).waitFor();
    assert.ok((await page.locator('details').count()) > 20);
    assert.match((await page.locator('#title').textContent()) ?? '', /^taskd API \d/);
  });

  test('no console errors along the way', () => {
    assert.deepEqual(browser.problems, []);
  });
});
