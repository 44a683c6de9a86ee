/**
 * `shepherd demo`: a whole farm on this machine (what `npm start` runs).
 */
import type { Command } from 'commander';
import { parseInteger } from '../arguments.js';

interface DemoFlags {
  dir?: string;
  port?: number;
}

/** Registers `demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a demo farm: a master and two workers building every commit of a sample repository')
    .option('--dir <dir>', 'where the demo keeps its config, database, logs and git repository (with a clone to commit in)', 'demo-data')
    .option('--port <port>', 'port of the master (default 8010, or a free one)', parseInteger)
    .action(async function demo(flags: DemoFlags) {
      const { runDemo } = await import('../demo.js');
      await runDemo({ ...(flags.dir ? { dir: flags.dir } : {}), ...(flags.port !== undefined ? { port: flags.port } : {}) });
    });
}
