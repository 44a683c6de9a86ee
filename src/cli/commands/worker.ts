/**
 * `shepherd worker`: run the worker agent until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import type { WorkerFlags } from '../../worker/config.js';
import { untilStopSignal } from '../stop-signal.js';
import { registerWorkerAdminCommands } from './worker-admin.js';

/** The command's flags are the agent's own. */
type WorkerCommandFlags = WorkerFlags;

/** Registers `worker`. */
export function registerWorkerCommand(program: Command): void {
  const worker = program
    .command('worker')
    .description('run a worker agent that connects to a master and runs its steps')
    // `shepherd worker pause NAME --master URL`: the subcommand's options are its own.
    .enablePositionalOptions()
    .option('-c, --config <file>', 'worker configuration (YAML); flags override it')
    .option('--master <url>', 'the master, ws://HOST:PORT')
    .option('--name <name>', "this worker's name in the master's config")
    .option('--secret-env <var>', "environment variable holding this worker's secret")
    .option('--dir <dir>', 'base directory for builds and the agent\'s state')
    .option('--admin <contact>', 'who runs this machine, "Name <mail>"')
    .action(async function worker(flags: WorkerCommandFlags) {
      const { resolveWorkerOptions, startWorkerAgent } = await import('../../worker/index.js');
      const options = resolveWorkerOptions(flags);
      const stop = untilStopSignal('worker');
      const agent = await startWorkerAgent(options);
      await stop;
      await agent.stop();
    });
  registerWorkerAdminCommands(worker);
}
