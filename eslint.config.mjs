// Lint rules of taskd (npm run lint, run by CI before the tests; any warning fails it). Beyond the
// recommended TypeScript rules, workflow code is held to Temporal's sandbox: it must stay
// deterministic, so it may not import Node builtins, and it may reach the activities, the database,
// the API and the provisioners only for their types.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SANDBOX_BUILTIN = 'Workflow code runs in a deterministic sandbox: no Node builtins.';
const WORKFLOW_SANDBOX = {
  paths: builtinModules.map((name) => ({ name, message: SANDBOX_BUILTIN })),
  patterns: [
    { group: ['node:*'], message: SANDBOX_BUILTIN },
    {
      group: ['**/activities', '**/activities/**', '**/db', '**/db/**', '**/api', '**/api/**', '**/provisioner', '**/provisioner/**', '**/worker', '**/worker/**', '**/lib/**'],
      allowTypeImports: true,
      message: 'Workflow code reaches activities, the database, the API and the provisioners only through types and proxyActivities.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'dist/**', 'web/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // tests and benchmarks handle loosely typed JSON bodies of HTTP answers, and match raw terminal output
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off' },
  },
  {
    // the CLI loads a command's modules only when that command runs, so `taskd --help` starts fast
    files: ['cli/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', WORKFLOW_SANDBOX] },
  },
);
