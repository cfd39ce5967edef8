// The picture of a task's history in docs/: one lifecycle (create → active → pause → resume →
// delete) of a task of the benchmarks' echo template (bench/lib/seed.ts), on a private stack whose
// Temporal dev server serves its Web UI, photographed in the UI's compact history view with
// Debian's Chromium.
//
//   node --import tsx scripts/history-screenshot.ts [docs/screenshots/lean-workflow-history.png]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startBenchStack, quietLog } from '../bench/lib/stack';
import { api, ownerAndTemplate } from '../bench/lib/seed';
import { ensureTemporalCli } from '../devstack/temporal-cli';
import { startTemporalDevServer } from '../devstack/temporal-server';
import { SEARCH_ATTRIBUTES, taskWorkflowId } from '../workflows/contracts';

const ROOT = path.resolve(__dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'screenshots', 'lean-workflow-history.png'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-shot-'));
  const cliPath = await ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), log: quietLog });
  const temporal = await startTemporalDevServer({ cliPath, searchAttributes: SEARCH_ATTRIBUTES, logFile: path.join(work, 'temporal.log'), log: quietLog });
  const stack = await startBenchStack({ temporalAddress: temporal.address });
  try {
    const { owner, template } = await ownerAndTemplate(stack);
    const call = (method: string, p: string, body?: unknown) => api(stack.baseUrl, method, `/api/v2/tasks/me${p}`, { token: owner.token, body });
    const until = async (id: string, status: string) => {
      for (let i = 0; i < 600; i++) {
        if ((await call('GET', `/${id}`)).body.status === status) return;
        await sleep(100);
      }
      throw new Error(`task never ${status}`);
    };
    const task = await call('POST', '', { template_version_id: template.versionId, input: 'Write a haiku', name: 'haiku' });
    if (task.status !== 201) throw new Error(`create: ${task.status} ${JSON.stringify(task.body)}`);
    const id = task.body.id as string;
    await until(id, 'active');
    await call('POST', `/${id}/pause`);
    await until(id, 'paused');
    await call('POST', `/${id}/resume`);
    await until(id, 'active');
    await call('DELETE', `/${id}`);
    await sleep(3_000);

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
      await page.goto(`${temporal.uiUrl}/namespaces/default/workflows/${taskWorkflowId(id)}`, { waitUntil: 'networkidle' });
      // the compact view: one line per step, local activities and updates named
      const compact = page.getByRole('button', { name: /compact/i }).or(page.getByText(/^Compact$/));
      if (await compact.count()) await compact.first().click();
      await page.waitForTimeout(2_000);
      await page.screenshot({ path: out, fullPage: true });
    } finally {
      await browser.close();
    }
    process.stdout.write(`${path.relative(ROOT, out)}: history of ${taskWorkflowId(id)}\n`);
  } finally {
    await stack.stop();
    await temporal.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
