/**
 * The master's configuration file, as one zod schema. The operator's
 * reference (docs/configuration.md) is generated from the descriptions here,
 * so the two cannot drift.
 */
import { z } from 'zod';
import { Duration, Size } from './units.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const Name = (what: string) =>
  z
    .string()
    .max(100)
    .regex(NAME_RE, { message: `expected a ${what} name of letters, digits, ".", "_" or "-"` });

const EnvName = z.string().regex(ENV_RE, { message: 'expected an environment variable name like SHEPHERD_TOKEN' });

/** Dimension values: strings (numbers and booleans in YAML are taken as their text). */
const Dimensions = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
);

/** A listen address `HOST:PORT` (port 0 picks a free port). */
const Listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { message: 'expected HOST:PORT like "127.0.0.1:8010"' })
  .meta({ description: 'HOST:PORT' });

const Database = z
  .string()
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'expected "sqlite:PATH" or "postgres://USER@HOST:PORT/DB"',
  })
  .meta({ description: 'sqlite:PATH or postgres://USER@HOST:PORT/DB' });

export const MasterSection = z.strictObject({
  listen: Listen.default('127.0.0.1:8010').describe(
    'Address of the HTTP server: REST API, worker WebSocket (/worker) and web UI.',
  ),
  database: Database.default('sqlite:./data/shepherd.sqlite').describe(
    'Where state lives. SQLite (relative paths are relative to the config file) or PostgreSQL.',
  ),
  data_dir: z.string().default('./data').describe('Directory for logs and other files (relative to the config file).'),
  api_token_env: EnvName.optional().describe(
    'Environment variable holding the bearer token that write API calls need. Unset: the API is read-only.',
  ),
  worker_lost_after: Duration.prefault('5m').describe(
    "How long a disconnected worker's running builds wait for it before they end RETRY and are queued again.",
  ),
  heartbeat_interval: Duration.prefault('30s').describe(
    'How often workers send a heartbeat; a connection silent for three intervals is dropped.',
  ),
  max_log_size: Size.prefault('256MB').describe(
    "Default cap on one step's log; output past it is dropped behind a visible truncation marker.",
  ),
});

export const WorkerEntry = z.strictObject({
  name: Name('worker').describe('Unique worker name; the agent connects with it.'),
  secret_env: EnvName.describe("Environment variable on the master holding this worker's secret."),
  max_builds: z.number().int().min(1).max(1000).default(1).describe('How many builds it runs at once (of different builders: one build per builder per worker at a time).'),
  dimensions: Dimensions.default({}).describe(
    'Properties builders select on (os, arch, ...). Merged over what the agent reports.',
  ),
});

const Command = z
  .union([z.string().min(1), z.array(z.string()).min(1)])
  .describe('A string runs through /bin/sh -c; a list is executed directly. ${{ props.NAME }} is interpolated.');

export const StepEntry = z.strictObject({
  name: Name('step').describe('Step name, unique within the builder.'),
  run: Command,
  env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables (interpolated).'),
  workdir: z.string().default('.').describe("Working directory, relative to the builder's directory on the worker."),
  timeout: Duration.prefault('20m').describe('Kill the step after this long without output (0: never).'),
  max_time: Duration.optional().describe('Kill the step after this long in all.'),
  halt_on_failure: z.boolean().default(true).describe('A failure skips the remaining steps (but always_run ones).'),
  always_run: z.boolean().default(false).describe('Run even when an earlier step halted the build or it was cancelled.'),
  max_log_size: Size.optional().describe('Cap on this step\'s log (default: master.max_log_size).'),
});

export const BuilderEntry = z.strictObject({
  name: Name('builder').describe('Unique builder name.'),
  workers: z
    .union([z.array(z.string()).min(1), Dimensions])
    .describe('Which workers may run it: a list of worker names, or a dimension selector (all must match).'),
  properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)))
    .default({})
    .describe('Build properties, available to steps as ${{ props.NAME }}.'),
  tags: z.array(z.string()).default([]).describe('Labels for filtering builders in views.'),
  priority: z.number().int().default(0).describe('Default priority of its requests; higher runs first.'),
  steps: z.array(StepEntry).min(1).describe('The commands of a build, run in order.'),
});

/** The whole configuration file. */
export const ConfigFile = z
  .strictObject({
    master: MasterSection.prefault({}).describe('The master process.'),
    workers: z.array(WorkerEntry).default([]).describe('Workers allowed to connect.'),
    builders: z.array(BuilderEntry).default([]).describe('What to build, and where.'),
  })
  .superRefine((config, ctx) => {
    const unique = (items: { name: string }[], path: string) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item.name)) {
          ctx.addIssue({ code: 'custom', path: [path, i, 'name'], message: `duplicate name "${item.name}"` });
        }
        seen.add(item.name);
      });
    };
    unique(config.workers, 'workers');
    unique(config.builders, 'builders');
    const workerNames = new Set(config.workers.map((w) => w.name));
    config.builders.forEach((builder, b) => {
      builder.steps.forEach((step, s) => {
        if (builder.steps.findIndex((other) => other.name === step.name) !== s) {
          ctx.addIssue({
            code: 'custom',
            path: ['builders', b, 'steps', s, 'name'],
            message: `duplicate step name "${step.name}"`,
          });
        }
      });
      if (Array.isArray(builder.workers)) {
        builder.workers.forEach((name, w) => {
          if (!workerNames.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['builders', b, 'workers', w],
              message: `no worker named "${name}" in workers`,
            });
          }
        });
      }
    });
  });

/** The configuration after validation (durations in ms, sizes in bytes, defaults applied). */
export type Config = z.output<typeof ConfigFile>;
export type BuilderConfig = Config['builders'][number];
export type StepConfig = BuilderConfig['steps'][number];
export type WorkerConfig = Config['workers'][number];
