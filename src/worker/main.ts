/**
 * `shepherd-worker`: the entry of the one-file bundle `dist/shepherd-worker.mjs`
 * that volunteers copy to their machines and run with plain `node`. It only
 * parses flags (node:util, to keep the bundle small), starts the agent and
 * stops it cleanly on SIGINT/SIGTERM. Exit status: 0 ok, 1 failure, 2 usage.
 */
import { parseArgs } from 'node:util';
import { startWorkerAgent, type WorkerAgent } from './agent.js';
import { resolveWorkerOptions, WorkerConfigError } from './config.js';
import { stderrLogger } from './logger.js';
import { AGENT_VERSION } from './version.js';

const USAGE = `Usage: shepherd-worker --master ws://HOST:PORT --name NAME --secret-env VAR --dir DIR [--admin "Name <mail>"]
       shepherd-worker --config worker.yml [flags that override the file]

Runs a Shepherd worker agent: connects to the master, runs the build steps it
is sent, and reconnects by itself when the connection drops.

Options:
  --master URL         the master's address, ws://HOST:PORT (/worker is added)
  --name NAME          this worker's name, as in the master's workers list
  --secret-env VAR     environment variable that holds this worker's secret
  --dir DIR            base directory for builds and the agent's state
  --admin "N <mail>"   who looks after this worker, shown on the master
  --config FILE        read the settings above from a YAML file
                       (keys: master, name, secret_env, dir, admin, dimensions)
  --version            print the version and exit
  -h, --help           print this help and exit

Example:
  SHEPHERD_SECRET=... node shepherd-worker.mjs --master ws://farm.example.org:8010 \\
      --name ada-arm64 --secret-env SHEPHERD_SECRET --dir ~/shepherd
`;

function fail(status: number, message: string): never {
  process.stderr.write(`shepherd-worker: ${message}\n`);
  process.exit(status);
}

function main(argv: string[]): void {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        master: { type: 'string' },
        name: { type: 'string' },
        'secret-env': { type: 'string' },
        dir: { type: 'string' },
        admin: { type: 'string' },
        config: { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(2, `${(error as Error).message}\nTry 'shepherd-worker --help'.`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }

  let agent: WorkerAgent;
  try {
    const options = resolveWorkerOptions({
      config: values.config,
      master: values.master,
      name: values.name,
      secretEnv: values['secret-env'],
      dir: values.dir,
      admin: values.admin,
    });
    agent = startWorkerAgent({ ...options, logger: stderrLogger });
  } catch (error) {
    if (error instanceof WorkerConfigError) {
      fail(2, `${error.problems.join('\nshepherd-worker: ')}\nTry 'shepherd-worker --help'.`);
    }
    fail(1, (error as Error).message);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      stderrLogger(`${signal} again: exiting without waiting for steps to end`);
      process.exit(130);
    }
    stopping = true;
    stderrLogger(`${signal}: stopping (running steps are ended; the master retries their builds)`);
    agent.stop().then(
      () => process.exit(0),
      (error: unknown) => fail(1, `stopping failed: ${String(error)}`),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main(process.argv.slice(2));
