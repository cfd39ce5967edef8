// The ratchet that keeps main green while taskd still has compatibility gaps: every check must
// pass unless known-gaps.ts lists it (with its reason), and a listed check that passes fails the
// run too, so the list can only shrink. Known gaps show as TODO tests with what failed.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { routeOf, type RecordedCall } from './recording-proxy';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface Verdict {
  name: string;
  /** pass: as it should be; fail: a regression or a new gap; known: a listed gap, still failing; closed: a listed gap that passes */
  kind: 'pass' | 'fail' | 'known' | 'closed';
  message: string;
}

/** Judges the checks against the known gaps; `problems` are faults of the run or the list themselves. */
export function judge(results: CheckResult[], gaps: Record<string, string>, gapsName: string): { verdicts: Verdict[]; problems: string[] } {
  const seen = new Set<string>();
  const problems: string[] = [];
  const verdicts = results.map((r): Verdict => {
    if (seen.has(r.name)) problems.push(`two checks are named "${r.name}"`);
    seen.add(r.name);
    const gap = gaps[r.name];
    if (gap === undefined) return { name: r.name, kind: r.ok ? 'pass' : 'fail', message: r.detail ?? '' };
    if (r.ok) return { name: r.name, kind: 'closed', message: `passes now: remove "${r.name}" from ${gapsName} in test/compat/known-gaps.ts (listed for: ${gap})` };
    return { name: r.name, kind: 'known', message: `known gap: ${gap}` };
  });
  for (const name of Object.keys(gaps)) {
    if (!seen.has(name)) problems.push(`${gapsName} in test/compat/known-gaps.ts lists "${name}", which no check is named any more`);
  }
  return { verdicts, problems };
}

/** Runs one subtest per check: known gaps are TODO tests that show what failed. */
export async function ratchet(t: TestContext, results: CheckResult[], gaps: Record<string, string>, gapsName: string): Promise<void> {
  const { verdicts, problems } = judge(results, gaps, gapsName);
  const details = new Map(results.map((r) => [r.name, r.detail ?? 'failed']));
  for (const v of verdicts) {
    if (v.kind === 'known') await t.test(v.name, { todo: v.message }, () => assert.fail(details.get(v.name)));
    else await t.test(v.name, () => assert.ok(v.kind === 'pass', v.message || 'failed'));
  }
  await t.test('the known-gaps list matches the checks', () => assert.deepEqual(problems, []));
}

/** One check per distinct route the client called: it passes when the API knew the route every time. */
export function routeChecks(calls: RecordedCall[]): CheckResult[] {
  const byRoute = new Map<string, { statuses: Set<number>; unknown: boolean }>();
  for (const call of calls) {
    const route = routeOf(call);
    const entry = byRoute.get(route) ?? { statuses: new Set<number>(), unknown: false };
    entry.statuses.add(call.status);
    entry.unknown ||= call.unknownRoute;
    byRoute.set(route, entry);
  }
  return [...byRoute.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, e]) => ({
      name: `route ${route}`,
      ok: !e.unknown,
      detail: `${e.unknown ? 'taskd has no such route; ' : ''}answered ${[...e.statuses].sort().join(', ')}`,
    }));
}
