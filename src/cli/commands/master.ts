/**
 * `shepherd master --config FILE`: run the master until SIGINT/SIGTERM.
 */
import { Option, type Command } from 'commander';
import { note } from '../output.js';
import { untilStopSignal } from '../stop-signal.js';

interface MasterFlags {
  config: string;
  logLevel: string;
}

/** Registers `master`. */
export function registerMasterCommand(program: Command): void {
  program
    .command('master')
    .description('run the master: REST API, worker endpoint and scheduler')
    .requiredOption('-c, --config <file>', 'the master configuration (YAML)')
    .addOption(
      new Option('--log-level <level>', 'how much to log (JSON lines on stderr)')
        .choices(['trace', 'debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(async function master(flags: MasterFlags) {
      // Loaded on demand: client commands should not pay for the master's dependencies.
      const { startMaster } = await import('../../master/master.js');
      const stop = untilStopSignal('master');
      const running = await startMaster({ configPath: flags.config, logLevel: flags.logLevel });
      note(`shepherd master listening on ${running.url}`);
      await stop;
      await running.close();
    });
}
