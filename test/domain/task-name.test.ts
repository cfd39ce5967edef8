import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { NAME_ADJECTIVES, NAME_SURNAMES } from '../../domain/name-words';
import {
  generateTaskName,
  normalizeDisplayName,
  randomTaskName,
  taskNameFromPrompt,
  taskNameSuffix,
  truncateRunes,
  validateDisplayName,
  validateTaskName,
} from '../../domain/task-name';
import { utf8ByteLength } from '../../domain/utf8';

const half = () => 0.5;

/** A rand that replays `values` in a loop. */
function replay(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

function stemOf(name: string): string {
  const m = /^(.*)-[0-9a-f]{4}$/.exec(name);
  assert.ok(m, `"${name}" should end in -xxxx`);
  return m[1] ?? '';
}

describe('validateTaskName (§6.2)', () => {
  const rows: [string, string | null][] = [
    ['', 'must be >= 1 character'],
    ['a', null],
    ['a'.repeat(32), null],
    ['a'.repeat(33), 'must be <= 32 characters'],
    ['é'.repeat(17), 'must be <= 32 characters'], // 17 characters but 34 bytes
    ['new', 'cannot use "new" as a name'],
    ['create', 'cannot use "create" as a name'],
    ['NEW', null],
    ['new-task', null],
    ['My-Task-42', null],
    ['-task', 'must be alphanumeric with hyphens'],
    ['task-', 'must be alphanumeric with hyphens'],
    ['my--task', 'must be alphanumeric with hyphens'],
    ['my task', 'must be alphanumeric with hyphens'],
    ['my_task', 'must be alphanumeric with hyphens'],
    ['tâche', 'must be alphanumeric with hyphens'],
    ['-', 'must be alphanumeric with hyphens'],
  ];
  for (const [name, expected] of rows) {
    it(`${JSON.stringify(name)} -> ${expected ?? 'valid'}`, () => assert.equal(validateTaskName(name), expected));
  }
});

describe('validateDisplayName (§6.2)', () => {
  const tooLong = 'Display name must be 64 characters or less.';
  it('allows up to 64 bytes after trimming, with no character restrictions', () => {
    assert.equal(validateDisplayName(''), null);
    assert.equal(validateDisplayName('x'.repeat(64)), null);
    assert.equal(validateDisplayName(`  ${'x'.repeat(64)}\n\t`), null);
    assert.equal(validateDisplayName('Fix <the> "bug" — ünïcødé ok'), null);
  });
  it('counts bytes, not characters', () => {
    assert.equal(validateDisplayName('x'.repeat(65)), tooLong);
    assert.equal(validateDisplayName('é'.repeat(32)), null);
    assert.equal(validateDisplayName('é'.repeat(33)), tooLong);
  });
  it('normalizeDisplayName trims like Go strings.TrimSpace', () => {
    assert.equal(normalizeDisplayName('  Fix it \n'), 'Fix it');
    assert.equal(normalizeDisplayName('\u00a0Fix\u3000'), 'Fix');
  });
});

describe('taskNameFromPrompt: §6.1 strategy 2 vectors', () => {
  const rows: [string, string, string][] = [
    ['Create a finance planning app', 'create-a-finance-planning', 'Create a finance planning app'],
    ['BUILD MY APP', 'build-my-app', 'BUILD MY APP'],
    ["fix user's dashboard", 'fix-users-dashboard', "Fix user's dashboard"],
    ['a'.repeat(100), 'a'.repeat(27), `A${'a'.repeat(62)}…`],
    ['build    my    app', 'build-my-app', 'Build    my    app'],
    ['build\nmy\napp', 'build-my-app', 'Build my app'],
    ['implement real-time notifications dashboard', 'implement-real-time', 'Implement real-time notifications dashboard'],
  ];
  for (const [prompt, stem, displayName] of rows) {
    it(`${JSON.stringify(prompt.length > 40 ? `${prompt.slice(0, 12)}…` : prompt)} -> ${stem}`, () => {
      const got = taskNameFromPrompt(prompt, half);
      assert.ok(got);
      assert.equal(got.name, `${stem}-8000`);
      assert.equal(got.displayName, displayName);
      assert.equal(validateTaskName(got.name), null);
    });
  }
  it('"Create a finance planning app" name contains the spec prefix', () => {
    assert.ok(taskNameFromPrompt('Create a finance planning app', half)?.name.includes('create-a-finance-planning-'));
  });
  for (const prompt of ['', '     ', '!@#$%^&*()']) {
    it(`${JSON.stringify(prompt)} fails, and generateTaskName falls back to a valid random name`, () => {
      assert.equal(taskNameFromPrompt(prompt, half), null);
      const got = generateTaskName(prompt, half);
      assert.equal(validateTaskName(got.name), null);
      assert.match(got.name, /^[a-z]+-[a-z]+-[0-9a-f]{4}$/);
    });
  }
  it('cuts the display name at a word boundary before the ellipsis', () => {
    const prompt = `${'word '.repeat(12)}tail end here`; // 73 characters
    const got = taskNameFromPrompt(prompt, half);
    assert.equal(got?.displayName, `Word ${Array(11).fill('word').join(' ')}…`);
  });
  it('tabs and carriage returns become single spaces too', () => {
    assert.deepEqual(taskNameFromPrompt('fix\t\tthe\r\nbug', half), { name: 'fix-the-bug-8000', displayName: 'Fix the bug' });
  });
  it('drops non-ASCII letters from the slug but keeps them in the display name', () => {
    assert.deepEqual(taskNameFromPrompt('réparer le café', half), { name: 'rparer-le-caf-8000', displayName: 'Réparer le café' });
  });
});

describe('suffix and fallback (§6.1 strategy 3)', () => {
  it('suffix is four lower-case hex digits covering 0000-ffff', () => {
    assert.equal(taskNameSuffix(() => 0), '0000');
    assert.equal(taskNameSuffix(() => 0.5), '8000');
    assert.equal(taskNameSuffix(() => 0.999999999), 'ffff');
    assert.equal(taskNameSuffix(() => 1), 'ffff');
    assert.equal(taskNameSuffix(() => -3), '0000');
    assert.equal(taskNameSuffix(() => Number.NaN), '0000');
    assert.equal(taskNameSuffix(() => 0x1234 / 0x10000), '1234');
  });
  it('random name is adjective-surname-xxxx with a capitalised spaced display name', () => {
    assert.deepEqual(randomTaskName(replay([0, 0, 0])), { name: 'bold-babbage-0000', displayName: 'Bold babbage' });
    assert.deepEqual(randomTaskName(replay([0.99999, 0.99999, 0.5])), { name: 'zesty-turing-8000', displayName: 'Zesty turing' });
  });
  it('word lists are ~40 distinct lower-case ASCII words and every pairing is a valid stem', () => {
    for (const list of [NAME_ADJECTIVES, NAME_SURNAMES]) {
      assert.ok(list.length >= 40);
      assert.equal(new Set(list).size, list.length);
      for (const w of list) assert.match(w, /^[a-z]+$/);
    }
    for (const a of NAME_ADJECTIVES) {
      for (const s of NAME_SURNAMES) {
        assert.ok(`${a}-${s}`.length <= 27, `${a}-${s}`);
      }
    }
  });
});

describe('truncateRunes', () => {
  it('counts code points, so emoji are never split', () => {
    assert.equal(truncateRunes('😀😀😀', 2), '😀😀');
    assert.equal(truncateRunes('😀😀😀', 2, { ellipsis: true }), '😀…');
    assert.equal(truncateRunes('short', 10, { ellipsis: true }), 'short');
    assert.equal(truncateRunes('abc', 0), '');
  });
  it('moves back to the last whitespace when asked', () => {
    assert.equal(truncateRunes('hello big world', 12, { fullWords: true }), 'hello big');
    assert.equal(truncateRunes('helloworld', 5, { fullWords: true }), 'hello');
  });
});

describe('generateTaskName properties', () => {
  const prompts = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 120 }),
    fc.string({ unit: fc.constantFrom('a', 'Z', '9', ' ', '-', '\n', '\t', "'", 'é', '😀', '\u00a0', 'İ', '_'), maxLength: 120 }),
  );
  const rands = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 4 });

  it('always yields a valid name of at most 32 bytes and a non-empty display name', () => {
    fc.assert(
      fc.property(prompts, rands, (prompt, values) => {
        const { name, displayName } = generateTaskName(prompt, replay(values));
        assert.equal(validateTaskName(name), null, name);
        assert.ok(utf8ByteLength(name) <= 32);
        assert.ok(stemOf(name).length <= 27);
        assert.notEqual(displayName, '');
      }),
      { numRuns: 3000 },
    );
  });

  it('prompt-derived display names stay within 64 characters', () => {
    fc.assert(
      fc.property(prompts, (prompt) => {
        const got = taskNameFromPrompt(prompt, half);
        if (got) assert.ok(Array.from(got.displayName).length <= 64);
      }),
      { numRuns: 2000 },
    );
  });

  it('is deterministic for a given rand sequence (safe in workflow code)', () => {
    fc.assert(
      fc.property(prompts, rands, (prompt, values) => {
        assert.deepEqual(generateTaskName(prompt, replay(values)), generateTaskName(prompt, replay(values)));
      }),
      { numRuns: 300 },
    );
  });
});
