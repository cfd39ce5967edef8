import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, needsRehash, passwordProblem, scryptCost, verifyPassword } from '../../../api/auth/passwords';
import { hashSecret, parseToken } from '../../../api/auth/api-keys';

test("new hashes cost N=2^17 (OWASP's minimum for scrypt); only the test-suite variable lowers it, never below 2^10", () => {
  assert.deepEqual(scryptCost({}), { N: 2 ** 17, r: 8, p: 1 });
  assert.equal(scryptCost({ TASKD_TEST_SCRYPT_LOG2N: '15' }).N, 2 ** 15);
  for (const v of ['9', '18', '20', 'x', '']) assert.equal(scryptCost({ TASKD_TEST_SCRYPT_LOG2N: v }).N, 2 ** 17, v);
});

test('a hash verifies its own password only, and carries its parameters (the suite hashes at 2^15)', async () => {
  const encoded = await hashPassword('correct horse');
  assert.match(encoded, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(needsRehash(encoded), false, "today's cost is not rehashed");
  assert.equal(needsRehash(encoded.replace('$32768$', '$16384$')), true, 'a cheaper hash is');
  assert.equal(await verifyPassword('correct horse', encoded), true);
  assert.equal(await verifyPassword('correct horsE', encoded), false);
  assert.notEqual(await hashPassword('correct horse'), encoded, 'salted: equal passwords hash differently');
});

test('hashes with other (cheaper) parameters still verify: parameters are read from the hash', async () => {
  const encoded = await hashPassword('pw-123456');
  const [, , , , salt] = encoded.split('$');
  const { scryptSync } = await import('node:crypto');
  const key = scryptSync('pw-123456', Buffer.from(salt, 'base64'), 32, { N: 1024, r: 8, p: 1 });
  assert.equal(await verifyPassword('pw-123456', `scrypt$1024$8$1$${salt}$${key.toString('base64')}`), true);
});

test('malformed or hostile hashes never verify', async () => {
  for (const bad of ['', 'bcrypt$x', 'scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5', 'scrypt$1073741824$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5']) {
    assert.equal(await verifyPassword('anything', bad), false, bad);
  }
});

test('password policy: 8 to 256 characters (code points, as JSON Schema counts them)', () => {
  assert.match(passwordProblem('short') ?? '', /at least 8/);
  assert.equal(passwordProblem('ëëëëëëëë'), null);
  assert.equal(passwordProblem('😀'.repeat(256)), null, '256 characters of 4 bytes each');
  assert.match(passwordProblem('x'.repeat(257)) ?? '', /at most 256 characters/);
});

test('session tokens: "<10 chars>-<22+ chars>", secret stored as SHA-256 hex', () => {
  assert.deepEqual(parseToken('abcDEF1234-abcdefghijklmnopqrstuv'), { id: 'abcDEF1234', secret: 'abcdefghijklmnopqrstuv' });
  for (const bad of ['abc-def', 'abcDEF1234abcdefghijklmnopqrstuv', 'abcDEF1234-short', 'abcDEF123!-abcdefghijklmnopqrstuv', '']) {
    assert.equal(parseToken(bad), null, bad);
  }
  assert.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
