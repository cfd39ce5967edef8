import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, passwordProblem, verifyPassword } from '../../../api/auth/passwords';
import { hashSecret, parseToken } from '../../../api/auth/api-keys';

test('a hash verifies its own password only, and carries its parameters', async () => {
  const encoded = await hashPassword('correct horse');
  assert.match(encoded, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
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

test('password policy: length in characters, size in bytes', () => {
  assert.match(passwordProblem('short') ?? '', /at least 8/);
  assert.equal(passwordProblem('ëëëëëëëë'), null);
  assert.match(passwordProblem('x'.repeat(257)) ?? '', /at most 256 bytes/);
});

test('session tokens: "<10 chars>-<22+ chars>", secret stored as SHA-256 hex', () => {
  assert.deepEqual(parseToken('abcDEF1234-abcdefghijklmnopqrstuv'), { id: 'abcDEF1234', secret: 'abcdefghijklmnopqrstuv' });
  for (const bad of ['abc-def', 'abcDEF1234abcdefghijklmnopqrstuv', 'abcDEF1234-short', 'abcDEF123!-abcdefghijklmnopqrstuv', '']) {
    assert.equal(parseToken(bad), null, bad);
  }
  assert.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
