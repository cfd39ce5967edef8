// Templates and versions over HTTP: taskd's WorkspaceDefinition in, Coder's Template /
// TemplateVersion / Preset JSON out; has_ai_task, validation per field, activation, search.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { aiWorkspaceDefinition, createAiTemplate, setupOwner } from '../helpers/fixtures';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof setupOwner>>;

before(async () => {
  stack = await startTestStack({ worker: false });
  owner = await setupOwner(stack);
});
after(async () => {
  await stack?.close();
});

const post = (path: string, body: unknown) => stack.api('POST', `/api/v2${path}`, { token: owner.token, body });
const get = (path: string) => stack.api('GET', `/api/v2${path}`, { token: owner.token });
const fieldsOf = (body: { validations?: { field: string }[] }) => (body.validations ?? []).map((v) => v.field);

describe('creating templates', () => {
  test('creates the template with an active first version in Coder\'s shape', async () => {
    const res = await post(`/organizations/${owner.org.id}/templates`, {
      name: 'claude-code',
      display_name: 'Claude Code',
      icon: '/icon/claude.svg',
      description: 'Runs Claude Code',
      workspace: aiWorkspaceDefinition(),
      presets: [{ name: 'Fast', parameters: { model: 'haiku' } }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const t = res.body;
    assert.equal(t.name, 'claude-code');
    assert.equal(t.display_name, 'Claude Code');
    assert.equal(t.icon, '/icon/claude.svg');
    assert.equal(t.description, 'Runs Claude Code');
    assert.equal(t.organization_id, owner.org.id);
    assert.equal(t.organization_name, owner.org.name);
    assert.equal(t.created_by_id, owner.user.id);
    assert.equal(t.created_by_name, 'owner');
    assert.equal(t.provisioner, 'echo');
    assert.equal(t.deprecated, false);
    assert.match(t.active_version_id, /^[0-9a-f-]{36}$/);
    for (const key of ['created_at', 'updated_at', 'build_time_stats', 'default_ttl_ms', 'active_user_count', 'require_active_version']) {
      assert.ok(key in t, key);
    }

    const v = await get(`/templateversions/${t.active_version_id}`);
    assert.equal(v.status, 200);
    assert.equal(v.body.template_id, t.id);
    assert.equal(v.body.organization_id, owner.org.id);
    assert.equal(v.body.name, 'v1');
    assert.equal(v.body.has_ai_task, true);
    assert.equal(v.body.job.status, 'succeeded');
    assert.equal(v.body.created_by.id, owner.user.id);
    assert.equal(v.body.created_by.username, 'owner');
    assert.deepEqual(
      v.body.presets.map((p: any) => ({ Name: p.Name, Parameters: p.Parameters })),
      [{ Name: 'Fast', Parameters: [{ Name: 'model', Value: 'haiku' }] }],
    );
    assert.equal(v.body.workspace.provisioner, 'echo', 'admins see the definition');
  });

  test('GET /templateversions/{id}/presets uses Coder\'s Preset JSON', async () => {
    const { version } = await createAiTemplate(stack, owner.token, owner.org.id, {
      presets: [
        { name: 'B', parameters: { x: '1', y: '2' } },
        { name: 'A' },
      ],
    });
    const res = await get(`/templateversions/${version.id}/presets`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 2);
    const b = res.body.find((p: any) => p.Name === 'B');
    assert.match(b.ID, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      [...b.Parameters].sort((l: any, r: any) => l.Name.localeCompare(r.Name)),
      [
        { Name: 'x', Value: '1' },
        { Name: 'y', Value: '2' },
      ],
    );
    assert.deepEqual(res.body.find((p: any) => p.Name === 'A').Parameters, []);
  });

  test('has_ai_task is false when ai_task is absent', async () => {
    const res = await post(`/organizations/${owner.org.id}/templates`, {
      name: 'plain',
      workspace: { provisioner: 'echo', apps: [{ slug: 'web' }] },
    });
    assert.equal(res.status, 201);
    const v = await get(`/templateversions/${res.body.active_version_id}`);
    assert.equal(v.body.has_ai_task, false);
  });

  test('invalid definitions are 400 with one validation per field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...aiWorkspaceDefinition(), provisioner: 'kubernetes' }, 'workspace.provisioner'],
      [{ ...aiWorkspaceDefinition(), provisioner: 'docker' }, 'workspace.docker'],
      [{ ...aiWorkspaceDefinition(), provisioner: 'docker', docker: { image: 'debian:bookworm-slim', cpus: 0 } }, 'workspace.docker.cpus'],
      [{ ...aiWorkspaceDefinition(), provisioner: 'docker', docker: { image: 'has space' } }, 'workspace.docker.image'],
      [{ ...aiWorkspaceDefinition(), ai_task: { app: 'missing' } }, 'workspace.ai_task.app'],
      [{ provisioner: 'echo', apps: [{ slug: 'a' }, { slug: 'a' }] }, 'workspace.apps.1.slug'],
      [{ provisioner: 'echo', apps: [{ slug: 'Bad Slug' }] }, 'workspace.apps.0.slug'],
      [{ provisioner: 'echo', apps: [{ slug: 'a', healthcheck: { url: 'http://x', path: '/y' } }] }, 'workspace.apps.0.healthcheck'],
      [{ provisioner: 'echo', auto_pause: { idle_timeout_s: 0 } }, 'workspace.auto_pause.idle_timeout_s'],
    ];
    for (const [workspace, field] of cases) {
      const res = await post(`/organizations/${owner.org.id}/templates`, { name: 'invalid', workspace });
      assert.equal(res.status, 400, JSON.stringify(workspace));
      assert.ok(fieldsOf(res.body).includes(field), `${field} in ${JSON.stringify(res.body.validations)}`);
    }
    const missing = await post(`/organizations/${owner.org.id}/templates`, { name: 'invalid' });
    assert.equal(missing.status, 400);
    assert.ok(fieldsOf(missing.body).includes('workspace'));
  });

  test('invalid template fields are 400', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'has space' }, 'name'],
      [{ name: 'x'.repeat(33) }, 'name'],
      [{ name: 'ok', display_name: ' padded ' }, 'display_name'],
      [{ name: 'ok', description: 'd'.repeat(129) }, 'description'],
      [{ name: 'ok', presets: [{ name: 'p' }, { name: 'p' }] }, 'presets.1.name'],
    ];
    for (const [body, field] of cases) {
      const res = await post(`/organizations/${owner.org.id}/templates`, { workspace: aiWorkspaceDefinition(), ...body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(fieldsOf(res.body).includes(field), `${field} in ${JSON.stringify(res.body.validations)}`);
    }
  });

  test('a duplicate name in the organization (any case) is 409', async () => {
    const res = await post(`/organizations/${owner.org.id}/templates`, { name: 'Claude-Code', workspace: aiWorkspaceDefinition() });
    assert.equal(res.status, 409);
    assert.equal(res.body.message, 'Template with name "Claude-Code" already exists.');
    assert.deepEqual(fieldsOf(res.body), ['name']);
  });

  test('an unknown organization is 404', async () => {
    const res = await post('/organizations/nowhere/templates', { name: 'x', workspace: aiWorkspaceDefinition() });
    assert.equal(res.status, 404);
  });
});

describe('reading templates', () => {
  test('by id, by organization and name, and as an organization list', async () => {
    const { template } = await createAiTemplate(stack, owner.token, owner.org.id, { name: 'reader' });
    const byId = await get(`/templates/${template.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.id, template.id);
    const byName = await get(`/organizations/${owner.org.name}/templates/READER`);
    assert.equal(byName.status, 200);
    assert.equal(byName.body.id, template.id);
    const list = await get(`/organizations/${owner.org.id}/templates`);
    assert.equal(list.status, 200);
    assert.ok(list.body.some((t: any) => t.id === template.id));
    assert.equal((await get('/templates/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).status, 404);
    assert.equal((await get('/templates/not-a-uuid')).status, 404);
    assert.equal((await get(`/organizations/${owner.org.id}/templates/nope`)).status, 404);
    assert.equal((await get('/templateversions/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).status, 404);
  });

  test('GET /templates filters with Coder\'s q (has-ai-task, organization, exact_name, name)', async () => {
    const ai = await get('/templates?q=has-ai-task:true');
    assert.equal(ai.status, 200);
    assert.ok(ai.body.length > 0);
    for (const t of ai.body) {
      const v = await get(`/templateversions/${t.active_version_id}`);
      assert.equal(v.body.has_ai_task, true, t.name);
    }
    const plain = await get('/templates?q=has-ai-task:false');
    assert.deepEqual(
      plain.body.map((t: any) => t.name),
      ['plain'],
    );
    const q = encodeURIComponent(`organization:"${owner.org.name}" exact_name:claude-code`);
    const exact = await get(`/templates?q=${q}`);
    assert.deepEqual(
      exact.body.map((t: any) => t.name),
      ['claude-code'],
    );
    const fuzzy = await get(`/templates?q=${encodeURIComponent('name:lau')}`);
    assert.deepEqual(
      fuzzy.body.map((t: any) => t.name),
      ['claude-code'],
    );
    const bad = await get(`/templates?q=${encodeURIComponent('colour:blue')}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(fieldsOf(bad.body), ['colour']);
    const unknownOrg = await get(`/templates?q=${encodeURIComponent('organization:nowhere')}`);
    assert.equal(unknownOrg.status, 400);
    assert.match(unknownOrg.body.validations[0].detail, /does not exist/);
  });
});

describe('template versions', () => {
  test('a new version becomes active by default and gets the next name', async () => {
    const { template, version: v1 } = await createAiTemplate(stack, owner.token, owner.org.id);
    const res = await post(`/templates/${template.id}/versions`, {
      workspace: { ...aiWorkspaceDefinition(), ai_task: undefined },
      message: 'drop the AI app',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.name, 'v2');
    assert.equal(res.body.message, 'drop the AI app');
    assert.equal(res.body.has_ai_task, false);
    assert.equal(res.body.template_id, template.id);
    const after = await get(`/templates/${template.id}`);
    assert.equal(after.body.active_version_id, res.body.id);
    // the old version stays readable (tasks keep pointing at it)
    assert.equal((await get(`/templateversions/${v1.id}`)).body.has_ai_task, true);
  });

  test('activate:false keeps the active version; PATCH switches it', async () => {
    const { template, version: v1 } = await createAiTemplate(stack, owner.token, owner.org.id);
    const res = await post(`/templates/${template.id}/versions`, { workspace: aiWorkspaceDefinition(), activate: false, name: 'candidate' });
    assert.equal(res.status, 201);
    assert.equal(res.body.name, 'candidate');
    assert.equal((await get(`/templates/${template.id}`)).body.active_version_id, v1.id);

    const patch = await stack.api('PATCH', `/api/v2/templates/${template.id}/versions`, { token: owner.token, body: { id: res.body.id } });
    assert.equal(patch.status, 200);
    assert.equal((await get(`/templates/${template.id}`)).body.active_version_id, res.body.id);

    const other = await createAiTemplate(stack, owner.token, owner.org.id);
    const foreign = await stack.api('PATCH', `/api/v2/templates/${template.id}/versions`, {
      token: owner.token,
      body: { id: other.version.id },
    });
    assert.equal(foreign.status, 400);
  });

  test('versions are listed oldest first and addressable by name; names are unique', async () => {
    const { template } = await createAiTemplate(stack, owner.token, owner.org.id);
    await post(`/templates/${template.id}/versions`, { workspace: aiWorkspaceDefinition() });
    const dup = await post(`/templates/${template.id}/versions`, { workspace: aiWorkspaceDefinition(), name: 'v2' });
    assert.equal(dup.status, 409);
    assert.deepEqual(fieldsOf(dup.body), ['name']);
    const list = await get(`/templates/${template.id}/versions`);
    assert.deepEqual(
      list.body.map((v: any) => v.name),
      ['v1', 'v2'],
    );
    const byName = await get(`/templates/${template.id}/versions/v2`);
    assert.equal(byName.status, 200);
    assert.equal(byName.body.id, list.body[1].id);
    const unknown = await get(`/templates/${template.id}/versions/v9`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.message, 'No template version found by name "v9".');
  });

  test('a version by organization, template name and version name, as Coder\'s CLI resolves --template-version', async () => {
    const { template, version } = await createAiTemplate(stack, owner.token, owner.org.id, { name: 'by-org-name' });
    for (const org of [owner.org.id, owner.org.name, 'default']) {
      const res = await get(`/organizations/${org}/templates/by-org-name/versions/${version.name}`);
      assert.equal(res.status, 200, `${org}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.id, version.id);
      assert.equal(res.body.template_id, template.id);
    }
    const unknownVersion = await get(`/organizations/${owner.org.id}/templates/by-org-name/versions/v9`);
    assert.equal(unknownVersion.status, 404);
    assert.equal(unknownVersion.body.message, 'No template version found by name "v9".');
    assert.equal((await get(`/organizations/${owner.org.id}/templates/no-such/versions/v1`)).status, 404);
    assert.equal((await get(`/organizations/no-such-org/templates/by-org-name/versions/v1`)).status, 404);
  });

  test('rich parameters and external auth are empty (taskd templates have none), for what the caller may see', async () => {
    const { template, version } = await createAiTemplate(stack, owner.token, owner.org.id);
    assert.equal((await get(`/templates/${template.id}`)).body.use_classic_parameter_flow, true);
    for (const suffix of ['rich-parameters', 'external-auth']) {
      const res = await get(`/templateversions/${version.id}/${suffix}`);
      assert.equal(res.status, 200, suffix);
      assert.deepEqual(res.body, []);
      assert.equal((await get(`/templateversions/00000000-0000-4000-8000-000000000001/${suffix}`)).status, 404);
    }
  });

  test('an invalid definition for a new version is 400 per field', async () => {
    const { template } = await createAiTemplate(stack, owner.token, owner.org.id);
    const res = await post(`/templates/${template.id}/versions`, { workspace: { provisioner: 'echo', ai_task: { app: 'ghost' } } });
    assert.equal(res.status, 400);
    assert.deepEqual(fieldsOf(res.body), ['workspace.ai_task.app']);
  });
});

describe('audit', () => {
  test('template and version creation are audited', async () => {
    const rows = await stack.orm.em
      .fork()
      .getConnection()
      .execute(`select resource_type, action, status_code from audit_logs where resource_type in ('template', 'template_version')`);
    assert.ok(rows.some((r: any) => r.resource_type === 'template' && r.action === 'create' && r.status_code === 201));
    assert.ok(rows.some((r: any) => r.resource_type === 'template_version' && r.action === 'create' && r.status_code === 201));
    assert.ok(rows.some((r: any) => r.resource_type === 'template' && r.action === 'write'), 'activation');
  });
});
