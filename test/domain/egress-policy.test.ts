import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, parseEgressPolicy } from '../../domain/egress-policy';
import { ConfigError, loadConfig } from '../../lib/config';

test('the egress policy: public by default, none, or an allow-list of hosts and *.domain patterns', () => {
  assert.deepEqual(parseEgressPolicy(undefined), { mode: 'public' });
  assert.deepEqual(parseEgressPolicy(' Public '), { mode: 'public' });
  assert.deepEqual(parseEgressPolicy('none'), { mode: 'none' });
  const list = parseEgressPolicy('api.anthropic.com, *.GitHub.com,203.0.113.7');
  assert.deepEqual(list, { mode: 'allow', hosts: ['api.anthropic.com', '*.github.com', '203.0.113.7'] });

  assert.equal(hostAllowed(list, 'api.anthropic.com'), true);
  assert.equal(hostAllowed(list, 'API.Anthropic.com.'), true, 'case and a trailing dot do not matter');
  assert.equal(hostAllowed(list, 'evil-api.anthropic.com'), false);
  assert.equal(hostAllowed(list, 'anthropic.com'), false);
  assert.equal(hostAllowed(list, 'codeload.github.com'), true);
  assert.equal(hostAllowed(list, 'github.com'), false, '*.domain is what is below it, not the domain');
  assert.equal(hostAllowed(list, 'github.com.evil.example'), false);
  assert.equal(hostAllowed(list, '203.0.113.7'), true);
  assert.equal(hostAllowed({ mode: 'public' }, 'anything.example'), true);
  assert.equal(hostAllowed({ mode: 'none' }, 'api.anthropic.com'), false);
});

test('a bad TASKD_WORKSPACE_EGRESS stops start-up naming the variable and the entry', () => {
  assert.deepEqual(loadConfig({}).worker.workspaceEgress, { mode: 'public' });
  assert.deepEqual(loadConfig({ TASKD_WORKSPACE_EGRESS: 'none' }).worker.workspaceEgress, { mode: 'none' });
  for (const bad of ['http://example.com', 'exa mple.com', '*', 'example.com/path', '*.*.example.com']) {
    assert.throws(
      () => loadConfig({ TASKD_WORKSPACE_EGRESS: bad }),
      (err: unknown) => err instanceof ConfigError && err.issues[0]!.variable === 'TASKD_WORKSPACE_EGRESS' && err.message.includes('is not a host name'),
      bad,
    );
  }
});
