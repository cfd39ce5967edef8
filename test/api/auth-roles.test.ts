// The role matrix over HTTP: site owner, organization admin, organization member, and a user of
// another organization. What a caller may not see is 404 (never 403); 403 only where the caller
// can see the organization but lacks the right to change it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { aiWorkspaceDefinition, createAiTemplate, createUserWithToken, setupOwner } from '../helpers/fixtures';
import { listScope, ownerScopeSql } from '../../db/scope';

type Caller = { token: string; user: { id: string; username: string } };

let stack: TestStack;
let owner: Caller & { org: { id: string; name: string } };
let admin: Caller; // organization-admin of the default org
let alice: Caller; // member of the default org
let bob: Caller; // member of the default org
let carol: Caller; // member of "acme" only
let acme: { id: string; name: string };
let template: { id: string; active_version_id: string };
let acmeTemplate: { id: string; active_version_id: string };

const call = (who: Caller, method: string, path: string, body?: unknown) =>
  stack.api(method, `/api/v2${path}`, { token: who.token, body });

before(async () => {
  stack = await startTestStack({ worker: false });
  owner = await setupOwner(stack);
  admin = await createUserWithToken(stack, owner.token, { username: 'ada', orgRoles: ['organization-admin'] });
  alice = await createUserWithToken(stack, owner.token, { username: 'alice' });
  bob = await createUserWithToken(stack, owner.token, { username: 'bob' });
  const org = await call(owner, 'POST', '/organizations', { name: 'acme', display_name: 'Acme' });
  assert.equal(org.status, 201, JSON.stringify(org.body));
  acme = org.body;
  carol = await createUserWithToken(stack, owner.token, { username: 'carol', organizationIds: [acme.id] });
  template = (await createAiTemplate(stack, admin.token, owner.org.id, { name: 'shared' })).template;
  acmeTemplate = (await createAiTemplate(stack, owner.token, acme.id, { name: 'acme-only' })).template;
});
after(async () => {
  await stack?.close();
});

describe('users', () => {
  test('members see users they share an organization with; others are 404', async () => {
    assert.equal((await call(alice, 'GET', '/users/bob')).status, 200);
    assert.equal((await call(alice, 'GET', `/users/${carol.user.id}`)).status, 404);
    assert.equal((await call(carol, 'GET', '/users/alice')).status, 404);
    assert.equal((await call(owner, 'GET', '/users/carol')).status, 200);
  });

  test('GET /users lists only visible users', async () => {
    const names = (await call(alice, 'GET', '/users')).body.users.map((u: any) => u.username).sort();
    assert.deepEqual(names, ['ada', 'alice', 'bob', 'owner']);
    assert.equal((await call(owner, 'GET', '/users')).body.count, 5);
  });

  test('keys can only be minted for oneself (site owner: anyone)', async () => {
    assert.equal((await call(alice, 'POST', '/users/bob/keys')).status, 404);
    assert.equal((await call(admin, 'POST', '/users/alice/keys')).status, 404, 'org admins cannot impersonate');
    assert.equal((await call(alice, 'POST', '/users/carol/keys')).status, 404);
    assert.equal((await call(owner, 'POST', '/users/carol/keys')).status, 201);
  });
});

describe('organizations', () => {
  test('an organization is visible to members and site owners only', async () => {
    assert.equal((await call(alice, 'GET', `/organizations/${acme.id}`)).status, 404);
    assert.equal((await call(alice, 'GET', '/organizations/acme')).status, 404);
    assert.equal((await call(carol, 'GET', '/organizations/acme')).status, 200);
    assert.equal((await call(owner, 'GET', '/organizations/acme')).status, 200);
    assert.equal((await call(carol, 'GET', `/organizations/${owner.org.id}`)).status, 404);
  });

  test('GET /organizations lists the caller\'s organizations (site owner: all)', async () => {
    const mine = (await call(alice, 'GET', '/organizations')).body.map((o: any) => o.name);
    assert.deepEqual(mine, [owner.org.name]);
    const all = (await call(owner, 'GET', '/organizations')).body.map((o: any) => o.name).sort();
    assert.deepEqual(all, ['acme', owner.org.name].sort());
  });

  test('members can list members; non-members get 404', async () => {
    const res = await call(alice, 'GET', `/organizations/${owner.org.id}/members`);
    assert.equal(res.status, 200);
    const ada = res.body.find((m: any) => m.username === 'ada');
    assert.deepEqual(
      ada.roles.map((r: any) => r.name),
      ['organization-admin'],
    );
    assert.equal(ada.user_id, admin.user.id);
    assert.equal((await call(carol, 'GET', `/organizations/${owner.org.id}/members`)).status, 404);
  });

  test('adding members: admin yes, member 403, non-member 404, duplicate 409', async () => {
    assert.equal((await call(alice, 'POST', `/organizations/${owner.org.id}/members/carol`)).status, 403);
    assert.equal((await call(carol, 'POST', `/organizations/${owner.org.id}/members/carol`)).status, 404);
    const added = await call(owner, 'POST', `/organizations/${acme.id}/members/bob`);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.user_id, bob.user.id);
    assert.equal(added.body.organization_id, acme.id);
    assert.deepEqual(added.body.roles, []);
    assert.equal((await call(owner, 'POST', `/organizations/${acme.id}/members/bob`)).status, 409);
    assert.equal((await call(owner, 'POST', `/organizations/${acme.id}/members/ghost`)).status, 404);
    // now bob sees acme and carol
    assert.equal((await call(bob, 'GET', '/organizations/acme')).status, 200);
    assert.equal((await call(bob, 'GET', '/users/carol')).status, 200);
  });

  test('role changes: admin only, never one\'s own, only known roles, members only', async () => {
    const path = `/organizations/${owner.org.id}/members/bob/roles`;
    assert.equal((await call(alice, 'PUT', path, { roles: ['organization-admin'] })).status, 403);
    assert.equal((await call(carol, 'PUT', path, { roles: ['organization-admin'] })).status, 404);
    assert.equal((await call(admin, 'PUT', `/organizations/${owner.org.id}/members/ada/roles`, { roles: [] })).status, 400);
    const bad = await call(admin, 'PUT', path, { roles: ['superuser'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.validations[0].field, 'roles.0');
    assert.equal((await call(admin, 'PUT', `/organizations/${owner.org.id}/members/carol/roles`, { roles: [] })).status, 404);

    const promoted = await call(admin, 'PUT', path, { roles: ['organization-admin', 'organization-member'] });
    assert.equal(promoted.status, 200);
    assert.deepEqual(
      promoted.body.roles.map((r: any) => r.name),
      ['organization-admin'],
    );
    // the new role takes effect on the next request
    const created = await call(bob, 'POST', `/organizations/${owner.org.id}/templates`, { name: 'bobs', workspace: aiWorkspaceDefinition() });
    assert.equal(created.status, 201);
    const demoted = await call(admin, 'PUT', path, { roles: [] });
    assert.deepEqual(demoted.body.roles, []);
    const denied = await call(bob, 'POST', `/organizations/${owner.org.id}/templates`, { name: 'bobs2', workspace: aiWorkspaceDefinition() });
    assert.equal(denied.status, 403);
  });

  test('only site owners create organizations', async () => {
    assert.equal((await call(admin, 'POST', '/organizations', { name: 'rogue' })).status, 403);
    const dup = await call(owner, 'POST', '/organizations', { name: 'acme' });
    assert.equal(dup.status, 409);
  });
});

describe('templates', () => {
  test('members read templates of their organization; others get 404', async () => {
    assert.equal((await call(alice, 'GET', `/templates/${template.id}`)).status, 200);
    assert.equal((await call(alice, 'GET', `/templateversions/${template.active_version_id}`)).status, 200);
    assert.equal((await call(alice, 'GET', `/templateversions/${template.active_version_id}/presets`)).status, 200);
    assert.equal((await call(alice, 'GET', `/templates/${template.id}/versions`)).status, 200);
    for (const path of [
      `/templates/${acmeTemplate.id}`,
      `/templates/${acmeTemplate.id}/versions`,
      `/templateversions/${acmeTemplate.active_version_id}`,
      `/templateversions/${acmeTemplate.active_version_id}/presets`,
      `/organizations/${acme.id}/templates`,
      `/organizations/acme/templates/acme-only`,
    ]) {
      assert.equal((await call(alice, 'GET', path)).status, 404, path);
    }
  });

  test('GET /templates only lists templates of visible organizations', async () => {
    const names = (await call(carol, 'GET', '/templates')).body.map((t: any) => t.name);
    assert.deepEqual(names, ['acme-only']);
    const ownerNames = (await call(owner, 'GET', '/templates')).body.map((t: any) => t.name);
    assert.ok(ownerNames.includes('acme-only') && ownerNames.includes('shared'));
  });

  test('creating templates and versions: admins yes, members 403, outsiders 404', async () => {
    const body = { name: 'by-member', workspace: aiWorkspaceDefinition() };
    const byMember = await call(alice, 'POST', `/organizations/${owner.org.id}/templates`, body);
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.message, 'Forbidden.');
    assert.equal((await call(carol, 'POST', `/organizations/${owner.org.id}/templates`, body)).status, 404);
    assert.equal((await call(alice, 'POST', `/templates/${template.id}/versions`, { workspace: aiWorkspaceDefinition() })).status, 403);
    assert.equal((await call(carol, 'POST', `/templates/${template.id}/versions`, { workspace: aiWorkspaceDefinition() })).status, 404);
    assert.equal((await call(carol, 'PATCH', `/templates/${template.id}/versions`, { id: template.active_version_id })).status, 404);
    assert.equal((await call(admin, 'POST', `/templates/${template.id}/versions`, { workspace: aiWorkspaceDefinition() })).status, 201);
  });

  test('the stored definition is shown to organization admins only', async () => {
    const asMember = await call(alice, 'GET', `/templateversions/${template.active_version_id}`);
    assert.equal(asMember.body.workspace, undefined);
    assert.equal(asMember.body.has_ai_task, true);
    const asAdmin = await call(admin, 'GET', `/templateversions/${template.active_version_id}`);
    assert.equal(asAdmin.body.workspace.provisioner, 'echo');
  });
});

describe('task visibility scope (data-access layer)', () => {
  const callerOf = (c: Caller, isSiteOwner = false) => ({ userId: c.user.id, isSiteOwner });
  const columns = { owner: 'owner_id', organization: 'organization_id' };

  test('site owner: everything; org admin: own + administered orgs; member: own only', async () => {
    const em = stack.orm.em.fork();
    assert.deepEqual(await listScope(em, callerOf(owner, true)), { userId: owner.user.id, isSiteOwner: true, adminOrgIds: [] });
    assert.deepEqual(await listScope(em, callerOf(admin)), { userId: admin.user.id, isSiteOwner: false, adminOrgIds: [owner.org.id] });
    assert.deepEqual(await listScope(em, callerOf(alice)), { userId: alice.user.id, isSiteOwner: false, adminOrgIds: [] });
  });

  test('both forms of the scope compile to SQL that PostgreSQL accepts and agree row by row', async () => {
    const em = stack.orm.em.fork();
    for (const who of [callerOf(owner, true), callerOf(admin), callerOf(alice)]) {
      const listed = ownerScopeSql(await listScope(em, who), columns);
      const single = ownerScopeSql(who, columns);
      const rows = await em.getConnection().execute(
        `select count(*)::int as n from tasks where (${listed.sql}) is distinct from (${single.sql})`,
        [...listed.params, ...single.params],
      );
      assert.equal(rows[0].n, 0);
    }
  });
});
