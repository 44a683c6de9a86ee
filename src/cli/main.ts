#!/usr/bin/env node
/**
 * Entry point of the `shepherd` command (bin/shepherd.mjs imports the
 * compiled file).
 */
import { runCli } from './run-cli.js';

// `shepherd log 12 | head`: the reader left; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const status = await runCli(process.argv);
// Exit once stdout has drained: idle keep-alive sockets must not hold the command open.
process.stdout.write('', () => process.exit(status));
