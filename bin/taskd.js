#!/usr/bin/env node
// Installed entry of the `taskd` command: loads the TypeScript sources through tsx.
require('tsx/cjs/api').register();
require('../cli/main.ts');
