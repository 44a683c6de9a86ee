/**
 * `shepherd check-config FILE`: validate a master configuration without
 * starting anything; every problem on its own line, and a warning for each
 * builder no configured worker can run.
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
      const [{ loadConfig }, { ShepherdError }, { uncoverableBuilders }] = await Promise.all([
        import('../../master/config/load.js'),
        import('../../master/errors.js'),
        import('../../master/fleet/coverage.js'),
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
      // Warnings, not errors: an agent may report more dimensions than its config entry has.
      const warnings = uncoverableBuilders(config.builders, config.workers).map((name) => {
        const index = config.builders.findIndex((b) => b.name === name);
        return `builders[${index}].workers: no configured worker can run builder "${name}"; add a worker with its dimensions, or check its selector`;
      });
      if (flags.json) return printJson({ file, ok: true, ...counts, warnings });
      for (const warning of warnings) process.stderr.write(`${file}: warning: ${warning}\n`);
      await writeStdout(`${file}: OK (${counts.workers} workers, ${counts.builders} builders)\n`);
    });
}
