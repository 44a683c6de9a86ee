/**
 * The `shepherd` command line: every command, each with a one-line
 * description and --help. Usage errors are one line on stderr and exit 2.
 */
import { Command } from 'commander';
import type { CliContext } from './errors.js';
import { shepherdVersion } from '../master/api/version.js';
import { registerApplicationsCommand } from './commands/applications.js';
import { registerArtifactsCommand } from './commands/artifacts.js';
import { registerBuildsCommand } from './commands/builds.js';
import { registerCancelCommand } from './commands/cancel.js';
import { registerChangesCommand } from './commands/changes.js';
import { registerCheckConfigCommand } from './commands/check-config.js';
import { registerCostCommand } from './commands/cost.js';
import { registerCoverageCommand } from './commands/coverage.js';
import { registerHealthCommand } from './commands/health.js';
import { registerInstancesCommand } from './commands/instances.js';
import { registerDebugCommand } from './commands/debug.js';
import { registerDebugApproveCommand, registerDebugEndCommand } from './commands/debug-approve.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerForceCommand } from './commands/force.js';
import { registerJoinCommand } from './commands/join.js';
import { registerLogCommand } from './commands/log.js';
import { registerMasterCommand } from './commands/master.js';
import { registerRebuildCommand } from './commands/rebuild.js';
import { registerReproCommand } from './commands/repro.js';
import { registerSchedulersCommand } from './commands/schedulers.js';
import { registerTestHistoryCommand } from './commands/test-history.js';
import { registerTestsCommand } from './commands/tests.js';
import { registerTryCommand } from './commands/try.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerWorkersCommand } from './commands/workers.js';

/** Commander's error text as one line: `shepherd: unknown option '--x' (Did you mean --y?)`. */
export function oneLineUsageError(text: string): string {
  return `shepherd: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`;
}

/** Builds the program. Settings made here are inherited by every command registered after them. */
export function createProgram(context: CliContext): Command {
  const program = new Command('shepherd')
    .description('Shepherd build farm: run a master or a worker, and talk to a master')
    .version(shepherdVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    // Options after a subcommand belong to it (`shepherd worker pause NAME --master URL`).
    .enablePositionalOptions()
    .configureOutput({ outputError: (text, write) => write(oneLineUsageError(text)) });
  registerMasterCommand(program);
  registerWorkerCommand(program);
  registerCheckConfigCommand(program, context);
  registerDemoCommand(program);
  registerForceCommand(program, context);
  registerTryCommand(program, context);
  registerBuildsCommand(program);
  registerChangesCommand(program);
  registerSchedulersCommand(program);
  registerLogCommand(program);
  registerWorkersCommand(program);
  registerCoverageCommand(program);
  registerHealthCommand(program);
  registerCostCommand(program);
  registerInstancesCommand(program);
  registerJoinCommand(program, context);
  registerApplicationsCommand(program);
  registerCancelCommand(program);
  registerReproCommand(program);
  registerRebuildCommand(program, context);
  registerArtifactsCommand(program);
  registerTestsCommand(program);
  registerTestHistoryCommand(program);
  registerDebugCommand(program, context);
  registerDebugApproveCommand(program);
  registerDebugEndCommand(program);
  return program;
}
