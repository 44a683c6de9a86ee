#!/usr/bin/env node
// The `shepherd` command; the CLI itself is compiled to dist/ by `npm run build`.
await import('../dist/src/cli/main.js');
