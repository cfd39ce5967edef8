import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isUuid, parseUuid } from '../../domain/ids';
import { parseTaskQuery, unknownOrganizationError, unknownOwnerError } from '../../domain/task-search';

const UUID = '3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b';

function ok(q: string, filters: Record<string, string>): void {
  assert.deepEqual(parseTaskQuery(q), { filters, errors: [] }, `q=${JSON.stringify(q)}`);
}

function errors(q: string): { field: string; detail: string }[] {
  return parseTaskQuery(q).errors;
}

describe('parseTaskQuery: the TestSearchTasks table (§5)', () => {
  it('"" -> no filters', () => ok('', {}));
  it('owner:alice', () => ok('owner:alice', { owner: 'alice' }));
  it('owner:me (resolved to the caller later)', () => ok('owner:me', { owner: 'me' }));
  it('owner:<uuid>', () => ok(`owner:${UUID}`, { owner: UUID }));
  it('status:active', () => ok('status:active', { status: 'active' }));
  it('status:pending', () => ok('status:pending', { status: 'pending' }));
  it('organization:acme', () => ok('organization:acme', { organization: 'acme' }));
  it('organization:<uuid>', () => ok(`organization:${UUID}`, { organization: UUID }));
  it('combined owner, organization and status', () =>
    ok('owner:alice organization:acme status:active', { owner: 'alice', organization: 'acme', status: 'active' }));
  it('owner:"alice"', () => ok('owner:"alice"', { owner: 'alice' }));
  it('status:"pending"', () => ok('status:"pending"', { status: 'pending' }));
  it('bare alice is the owner', () => ok('alice', { owner: 'alice' }));
  it('owner:nonexistent parses; the API reports it with unknownOwnerError', () => {
    ok('owner:nonexistent', { owner: 'nonexistent' });
    assert.deepEqual(unknownOwnerError('nonexistent'), {
      field: 'owner',
      detail:
        'Query param "owner" has invalid value: user "nonexistent" either does not exist, or you are unauthorized to view them',
    });
  });
  it('organization:nonexistent parses; the API reports it with unknownOrganizationError', () => {
    ok('organization:nonexistent', { organization: 'nonexistent' });
    const e = unknownOrganizationError('nonexistent');
    assert.equal(e.field, 'organization');
    assert.equal(
      e.detail,
      'Query param "organization" has invalid value: organization "nonexistent" either does not exist, or you are unauthorized to view it',
    );
    assert.match(e.detail, /does not exist/);
  });
  it('owner:alice invalid:param -> not a valid query param', () => {
    assert.deepEqual(parseTaskQuery('owner:alice invalid:param'), {
      filters: { owner: 'alice' },
      errors: [{ field: 'invalid', detail: 'Query param "invalid" is not a valid query param' }],
    });
  });
  it("owner:alice:extra -> can only contain 1 ':'", () => {
    assert.deepEqual(parseTaskQuery('owner:alice:extra'), {
      filters: {},
      errors: [{ field: 'q', detail: `Query element "owner:alice:extra" can only contain 1 ':'` }],
    });
  });
  it(":owner and owner: -> cannot start or end with ':'", () => {
    assert.deepEqual(errors(':owner'), [{ field: 'q', detail: `Query element ":owner" cannot start or end with ':'` }]);
    assert.deepEqual(errors('owner:'), [{ field: 'q', detail: `Query element "owner:" cannot start or end with ':'` }]);
  });
});

describe('parseTaskQuery: grammar details', () => {
  it('lower-cases keys and values', () => ok('OWNER:Alice Status:ACTIVE', { owner: 'alice', status: 'active' }));
  it('keeps quoted spaces and colons inside one value', () => {
    ok('owner:"Alice Smith"', { owner: 'alice smith' });
    ok('organization:"a:b"', { organization: 'a:b' });
  });
  it('joins all bare words into one owner term', () => ok('alice   bob', { owner: 'alice bob' }));
  it('strips quotes around bare words', () => ok('"alice"', { owner: 'alice' }));
  it('the first value of a repeated key wins', () => {
    ok('owner:bob owner:carol', { owner: 'bob' });
    ok('status:paused status:active', { status: 'paused' });
  });
  it('an explicit owner beats free text wherever it appears', () => {
    ok('alice owner:bob', { owner: 'bob' });
    ok('owner:bob alice', { owner: 'bob' });
  });
  it('accepts the SDK shape with a raw filter appended', () =>
    ok('owner:"me" organization:"acme" status:"active" extra', { owner: 'me', organization: 'acme', status: 'active' }));
  it('treats an empty value as no filter', () => ok('owner:"" status:""', {}));
  it('ignores extra spaces, including a blank query', () => {
    ok('   ', {});
    ok('  owner:alice    status:paused  ', { owner: 'alice', status: 'paused' });
  });
  it('stops at the first structural error', () => {
    assert.deepEqual(errors(':a owner:b:c'), [{ field: 'q', detail: `Query element ":a" cannot start or end with ':'` }]);
  });
  it('quotes the offending element the way Go %q does', () => {
    assert.deepEqual(errors('"x":'), [{ field: 'q', detail: `Query element "\\"x\\":" cannot start or end with ':'` }]);
  });
  it("like Coder, empty pieces between colons are dropped (owner::alice)", () => ok('owner::alice', { owner: 'alice' }));
  it('reports every unknown key, in order, alongside valid filters', () => {
    assert.deepEqual(parseTaskQuery('zeta:1 status:error alpha:2'), {
      filters: { status: 'error' },
      errors: [
        { field: 'zeta', detail: 'Query param "zeta" is not a valid query param' },
        { field: 'alpha', detail: 'Query param "alpha" is not a valid query param' },
      ],
    });
  });
});

describe('parseTaskQuery: status validation (deliberate divergence)', () => {
  for (const status of ['pending', 'initializing', 'active', 'paused', 'unknown', 'error']) {
    it(`accepts ${status}`, () => ok(`status:${status}`, { status }));
  }
  it('rejects an unknown status with a 400-style validation naming the valid ones', () => {
    assert.deepEqual(parseTaskQuery('owner:me status:running'), {
      filters: { owner: 'me' },
      errors: [
        {
          field: 'status',
          detail:
            'Query param "status" has invalid value: "running" is not a valid task status ' +
            '(must be one of: pending, initializing, active, paused, unknown, error)',
        },
      ],
    });
  });
});

describe('ids', () => {
  it('accepts the spellings Go uuid.Parse accepts, canonicalised', () => {
    assert.equal(parseUuid(UUID.toUpperCase()), UUID);
    assert.equal(parseUuid(`{${UUID}}`), UUID);
    assert.equal(parseUuid(`urn:uuid:${UUID}`), UUID);
    assert.equal(parseUuid(UUID.replaceAll('-', '')), UUID);
    assert.equal(isUuid('00000000-0000-0000-0000-000000000000'), true);
  });
  it('rejects names and near misses', () => {
    for (const s of ['', 'alice', 'me', `${UUID}0`, UUID.slice(1), UUID.replace('-', '_'), `{${UUID}`, ` ${UUID}`, 'g'.repeat(32)]) {
      assert.equal(isUuid(s), false, s);
    }
  });
});
