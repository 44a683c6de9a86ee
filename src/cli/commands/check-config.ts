/**
 * `shepherd check-config FILE`: validate a master configuration without
 * starting anything; every problem on its own line.
 */
import type { Command } from 'commander';
import { EXIT, type CliContext } from '../errors.js';
import { printJson, writeStdout } from '../output.js';

interface CheckFlags {
  json?: boolean;
}

/** Registers `check-config`. */
export function registerCheckConfigCommand(program: Command, context: CliContext): void {
  program
    .command('check-config')
    .description('check a master configuration file and list every problem')
    .argument('<file>', 'the master configuration (YAML)')
    .option('--json', 'print JSON for scripts instead of text')
    .action(async function checkConfig(file: string, flags: CheckFlags) {
      const [{ loadConfig }, { ShepherdError }] = await Promise.all([
        import('../../master/config/load.js'),
        import('../../master/errors.js'),
      ]);
      let config;
      try {
        config = loadConfig(file);
      } catch (error) {
        if (!(error instanceof ShepherdError) || error.code !== 'SHEPHERD_E_CONFIG') throw error;
        const problems = error.message.split('\n');
        if (flags.json) await printJson({ file, ok: false, problems });
        else for (const line of problems) process.stderr.write(`${line}\n`);
        context.exitCode = EXIT.failure;
        return;
      }
      const counts = { workers: config.workers.length, builders: config.builders.length };
      await (flags.json
        ? printJson({ file, ok: true, ...counts })
        : writeStdout(`${file}: OK (${counts.workers} workers, ${counts.builders} builders)\n`));
    });
}
