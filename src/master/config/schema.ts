/**
 * The master's configuration file, as one zod schema. The operator's
 * reference (docs/configuration.md) is generated from the descriptions here,
 * so the two cannot drift.
 */
import { z } from 'zod';
import { nightlyProblem } from '../schedulers/nightly.js';
import { Duration, Size } from './units.js';

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
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

/** Whether dimensions have every key of a selector with its value (how a platform's select matches). */
export function dimensionsSatisfy(dimensions: Readonly<Record<string, string>>, select: Readonly<Record<string, string>>): boolean {
  return Object.entries(select).every(([key, value]) => dimensions[key] === value);
}

/** A listen address `HOST:PORT` (port 0 picks a free port). */
const Listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { message: 'expected HOST:PORT like "127.0.0.1:8010"' })
  // Only for an address of the right shape (zod reports both otherwise): its port must exist.
  .refine((listen) => !/:\d+$/.test(listen) || Number(listen.slice(listen.lastIndexOf(':') + 1)) <= 65535, { message: 'the port must be 0 to 65535' })
  .meta({ description: 'HOST:PORT' });

const Database = z
  .string()
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'expected "sqlite:PATH" or "postgres://USER@HOST:PORT/DB"',
  })
  .meta({ description: 'sqlite:PATH or postgres://USER@HOST:PORT/DB' });

/** A test name, or a glob where `*` matches any run of characters and `?` one character. */
const TestPattern = z.string().min(1).max(500);

/** A known-flaky test whose failures do not turn a step red (the step is WARNINGS and says so). */
const QuarantineFields = {
  test: TestPattern.describe('The test\'s full name as its results name it (`test.test_os.FileTests.test_access`, `tests/test_x.py::test_a`), or a glob (`test.test_ssl.*`).'),
  reason: z.string().min(1).max(500).describe('Why (an issue link): shown on the build page next to the ignored failure.'),
};

/** A `master.quarantine` entry: for every builder, or the listed ones. */
export const QuarantineEntry = z.strictObject({
  ...QuarantineFields,
  builders: z.array(z.string()).min(1).optional().describe('Only on these builders (default: all).'),
});

/** Where a step's test results are: JUnit XML files it writes, or its own output read by a parser. */
export const TestResultsSpec = z
  .strictObject({
    junit: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe('Globs of JUnit XML files, relative to the step\'s workdir on the worker (`build/test-*.xml`); sent back after the step.'),
    parse: z
      .enum(['regrtest', 'unittest', 'pytest', 'tap'])
      .optional()
      .describe("Read the step's log as CPython's regrtest, Python unittest -v, pytest (-v or -rA) or TAP output."),
  })
  .superRefine((spec, ctx) => {
    const kinds = (['junit', 'parse'] as const).filter((k) => spec[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: kinds.length === 0 ? 'expected one of junit or parse' : 'expected only one of junit or parse' });
    }
  });

export const MasterSection = z.strictObject({
  public_url: z
    .string()
    .url()
    .optional()
    .describe('The address people reach the web UI at, for links in mail and chat (default: http://LISTEN).'),
  listen: Listen.default('127.0.0.1:8010').describe(
    'Address of the HTTP server: REST API, worker WebSocket (/worker) and web UI.',
  ),
  buildbot_listen: Listen.optional().describe(
    "Address where Buildbot workers (`protocol: buildbot`, buildbot-worker >= 3.6 with `protocol = 'msgpack_experimental_v7'`) connect: ws://HOST:PORT (see docs/buildbot-workers.md). Unset: none can.",
  ),
  database: Database.default('sqlite:./data/shepherd.sqlite').describe(
    'Where state lives. SQLite (relative paths are relative to the config file) or PostgreSQL.',
  ),
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1-40 lowercase letters, digits or "-", starting with a letter or digit')
    .default('shepherd')
    .describe("Names this master in the tag (`shepherd-master=ID`) of every on-demand instance it starts; masters sharing a database need different ids."),
  data_dir: z.string().default('./data').describe('Directory for logs and other files (relative to the config file).'),
  artifacts: z
    .strictObject({
      max_file: Size.prefault('100MB').describe('Largest file a step may send back; bigger ones are listed as skipped. Caps every step\'s own `artifacts.max_file`.'),
      max_build: Size.prefault('1GB').describe("A build's stored files together; files past it are listed as skipped."),
      keep_for: Duration.prefault('30d').describe("Files are deleted this long after they were stored (a build's files go together)."),
      max_total: Size.prefault('20GB').describe("All stored files together: past it, the oldest builds' files are deleted first."),
    })
    .prefault({})
    .describe('Files steps send back (artifacts, test results files), stored under data_dir/files (see docs/debugging.md, "Artifacts").'),
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
  ),  quarantine: z
    .array(QuarantineEntry)
    .default([])
    .describe('Known-flaky tests: their failures make a step WARNINGS, not FAILURE (more can be added through the API).'),
});

/** A maintenance window: the worker config's, and what an admin sets through the API (same rules). */
export const MaintenanceWindowEntry = z
  .strictObject({
    cron: z
      .string()
      .superRefine((cron, ctx) => {
        const problem = nightlyProblem({ cron, timezone: 'UTC' });
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('When a window opens: five-field cron, in UTC ("0 2 * * 0": Sundays at 02:00).'),
    // Undescribed: the docs recognise the Duration schema itself (a description makes a copy).
    duration: Duration,
  })
  .superRefine((window, ctx) => {
    if (window.duration <= 0) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'expected a duration above 0' });
  });

export const WorkerEntry = z.strictObject({
  name: Name('worker').describe('Unique worker name; the agent connects with it.'),
  secret_env: EnvName.describe("Environment variable on the master holding this worker's secret (a Buildbot worker's password)."),
  protocol: z
    .enum(['shepherd', 'buildbot'])
    .default('shepherd')
    .describe("shepherd: the Shepherd agent; buildbot: an unmodified buildbot-worker connecting to master.buildbot_listen (docs/buildbot-workers.md)."),
  max_builds: z.number().int().min(1).max(1000).default(1).describe('How many builds it runs at once (of different builders: one build per builder per worker at a time).'),
  dimensions: Dimensions.default({}).describe(
    'Properties builders select on (os, arch, ...). Merged over what the agent reports.',
  ),
  admins: z
    .array(z.string().min(3))
    .default([])
    .describe('Who runs this machine ("Name <mail>"): told when it goes missing. The agent also reports its own admin contact; a mismatch is shown.'),
  notes: z.string().max(2000).optional().describe('Free text shown with the worker (where it is, who pays for it...).'),
  missing_after: Duration.optional().describe('Overrides fleet.missing_after for this worker.'),
  maintenance: z
    .array(MaintenanceWindowEntry)
    .default([])
    .describe(
      'Maintenance windows, each opening at `cron` and lasting `duration` (above 0): while one is open the worker raises no missing-worker alert, and its absence counts again from its end.',
    ),
});

const Command = z
  .union([z.string().min(1), z.array(z.string()).min(1)])
  .describe('A string runs through /bin/sh -c; a list is executed directly. ${{ props.NAME }} is interpolated.');

/** A `checkout` step: clone or fetch a change source's repository and check out the build's revision. */
export const CheckoutSpec = z.strictObject({
  source: Name('change source').describe('The change source (in `changes`) whose repository to check out.'),
  mode: z
    .enum(['incremental', 'full'])
    .default('incremental')
    .describe('incremental: fetch into the existing clone and keep untracked files (build products); full: also remove every untracked and ignored file.'),
  shallow: z
    .union([z.boolean(), z.number().int().min(1)])
    .default(false)
    .describe('Fetch only the last commit (true) or the last N commits.'),
  branch: z
    .string()
    .optional()
    .describe("Branch to build when the build has no revision or branch of its own (a forced build): default the source's first branch."),
});

/** An artifact glob: relative to the step's workdir, never reaching outside it. */
const ArtifactGlob = z
  .string()
  .min(1)
  .max(500)
  .refine((glob) => !glob.startsWith('/') && !glob.split('/').includes('..'), {
    message: 'expected a glob relative to the step\'s workdir, without ".." (files outside the workdir are not collected)',
  });

export const StepEntry = z.strictObject({
  name: Name('step').describe('Step name, unique within the builder.'),
  run: Command.optional(),
  checkout: CheckoutSpec.optional().describe(
    "Instead of `run`: check out the build's revision (plus a try patch) into the step's workdir and set the `got_revision` property.",
  ),
  env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables (interpolated).'),
  workdir: z.string().default('.').describe("Working directory, relative to the builder's directory on the worker."),
  timeout: Duration.prefault('20m').describe('Kill the step after this long without output (0: never).'),
  max_time: Duration.optional().describe('Kill the step after this long in all.'),
  halt_on_failure: z.boolean().default(true).describe('A failure skips the remaining steps (but always_run ones).'),
  always_run: z.boolean().default(false).describe('Run even when an earlier step halted the build or it was cancelled.'),
  max_log_size: Size.optional().describe('Cap on this step\'s log (default: master.max_log_size).'),
  artifacts: z
    .union([
      z.array(ArtifactGlob).min(1),
      z.strictObject({
        globs: z.array(ArtifactGlob).min(1).describe('The files to send back.'),
        max_file: Size.optional().describe('Largest file of this step sent back (default and cap: master.artifacts.max_file).'),
        max_total: Size.optional().describe("This step's artifacts together (default and cap: master.artifacts.max_build)."),
      }),
    ])
    .optional()
    .describe(
      "Files to send back to the master once the step's process has ended (not when cancelled): globs relative to the workdir (`*` within a path segment, `**` across segments, `?` one character), or `{ globs, max_file, max_total }`. Listed and downloadable with the build.",
    ),
  test_results: TestResultsSpec.optional().describe(
    'Store each test\'s outcome: `{ junit: "build/test-*.xml" }` or `{ parse: regrtest }` (see docs/debugging.md).',
  ),
  rerun_failed: z
    .string()
    .min(1)
    .optional()
    .describe(
      'After a failure, run this command with only the failed tests: `{tests}` is replaced by their names, each quoted for /bin/sh, separated by spaces (`./python -m test -v {tests}`). A test that passes then is flaky and the step is WARNINGS. Needs test_results.',
    ),
});

export const BuilderEntry = z.strictObject({
  name: Name('builder').describe('Unique builder name.'),
  workers: z
    .union([z.array(z.string()).min(1), Dimensions])
    .describe('Which workers may run it: a list of worker names, or a dimension selector (all must match).'),
  properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)))
    .default({})
    .describe('Build properties, available to steps as ${{ props.NAME }}. A property named `env.NAME` also sets the environment variable NAME for every step (rebuilds use it).'),
  tags: z.array(z.string()).default([]).describe('Labels for filtering builders in views.'),
  collapse: z
    .boolean()
    .default(true)
    .describe(
      'Queued requests for the same branch of the same source are built together as one build (of the newest revision), like Buildbot\'s collapseRequests. false: every change gets its own build.',
    ),
  priority: z.number().int().default(0).describe('Default priority of its requests; higher runs first.'),
  steps: z.array(StepEntry).min(1).describe('The commands of a build, run in order.'),  // Optional rather than defaulted: code building a BuilderConfig by hand need not know of it.
  quarantine: z
    .array(z.strictObject(QuarantineFields))
    .optional()
    .describe("Known-flaky tests of this builder: their failures make a step WARNINGS, not FAILURE (default: none)."),
  keep_workdir_on_failure: z
    .boolean()
    .optional()
    .describe("When a build ends FAILURE or EXCEPTION, its worker keeps the builder's directory for debug sessions (within the worker admin's `keep` policy); the next build starts from a fresh directory (default: false)."),
});


/** A branch pattern: a name, or a glob where `*` matches any run of characters (`3.*`, `release/*`). */
const BranchPattern = z.string().min(1).max(250);

/** A path glob (`Doc/**`, `*.md`): `*` stays within one path segment, `**` crosses segments; a pattern without `/` matches the file name anywhere. */
const PathGlob = z.string().min(1).max(500);

/** A change source: a git repository polled for new commits (and/or fed by webhooks). */
export const ChangeSourceEntry = z.strictObject({
  name: Name('change source').describe('Unique change source name; schedulers and checkout steps refer to it.'),
  git: z.string().min(1).describe('Repository URL, anything `git clone` accepts (https://, ssh, file://, a path).'),
  branches: z.array(BranchPattern).min(1).default(['main']).describe('Branches to follow: names or globs (`3.*`).'),
  poll: Duration.prefault('0')
    .describe('How often to poll the repository for new commits (0: never; webhooks only).'),
  repository: z
    .string()
    .optional()
    .describe('The repository as webhooks name it ("owner/name"); pushes to it feed this source. URLs in the payload matching `git` also do.'),
  on_first_poll: z
    .enum(['record', 'build'])
    .default('record')
    .describe('The first time a branch is seen: record its head without building (record), or emit its head commit as a change (build).'),
  max_changes_per_push: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('At most this many commits become changes from one push or poll of one branch (the newest ones).'),
});

/** Secrets for push webhooks (`POST /hooks/github|gitlab|gitea`). A provider without an entry answers 404. */
export const HooksSection = z.strictObject({
  github: z
    .strictObject({ secret_env: EnvName.describe('Environment variable holding the webhook secret (HMAC-SHA256, X-Hub-Signature-256).') })
    .optional(),
  gitlab: z
    .strictObject({ token_env: EnvName.describe('Environment variable holding the secret token (X-Gitlab-Token).') })
    .optional(),
  gitea: z
    .strictObject({ secret_env: EnvName.describe('Environment variable holding the webhook secret (HMAC-SHA256, X-Gitea-Signature).') })
    .optional(),
});

/** A typed parameter of a force scheduler; its value becomes a build property of the same name. */
export const ForceParam = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('string'),
    default: z.string().optional(),
    required: z.boolean().default(false),
    pattern: z.string().optional().describe('A regular expression the whole value must match.'),
    description: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('boolean'),
    default: z.boolean().default(false),
    description: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('choice'),
    choices: z.array(z.string()).min(1),
    default: z.string().optional(),
    description: z.string().optional(),
  }),
]);

/** What triggers a scheduler; exactly one of these per scheduler. */
export const OnChangeTrigger = z.strictObject({
  changes: z
    .union([Name('change source'), z.array(Name('change source')).min(1)])
    .optional()
    .describe('Change source(s) to follow (default: all).'),
  branches: z.array(BranchPattern).optional().describe('Branch names or globs (default: every branch the source follows).'),
  files: z.array(PathGlob).optional().describe('Only changes touching at least one matching file count (default: any file).'),
  ignore: z.array(PathGlob).default([]).describe('Files that do not count: a change touching only these triggers nothing.'),
  quiet: Duration.prefault('0').describe('Wait this long after the last change before queueing; changes within it are built together.'),
});

export const ForceTrigger = z.strictObject({
  params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), ForceParam).default({}).describe('Typed parameters, validated before a build is queued.'),
});

export const NightlyTrigger = z.strictObject({
  cron: z.string().min(9).describe('Five-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 3 * * *".'),
  timezone: z.string().default('UTC').describe('Time zone the cron expression is read in (IANA name).'),
  changes: Name('change source').optional().describe('Change source whose branch to build (default: the first).'),
  branch: z.string().optional().describe("Branch to build (default: the source's first branch)."),
  only_if_changed: z.boolean().default(false).describe('Skip a night when the branch has no change since the last nightly build.'),
});

export const TryTrigger = z.strictObject({
  max_patch: Size.prefault('10MB').describe('Largest patch accepted.'),
  changes: Name('change source').optional().describe('Change source the patch applies to (default: the first).'),
});

export const SchedulerEntry = z
  .strictObject({
    name: Name('scheduler').describe('Unique scheduler name.'),
    builders: z.array(z.string()).min(1).describe('Builders it queues requests for.'),
    properties: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)))
      .default({})
      .describe('Extra build properties for the requests it queues.'),
    priority: z.number().int().optional().describe("Priority of its requests (default: each builder's)."),
    on_change: OnChangeTrigger.optional().describe('Build new commits.'),
    force: ForceTrigger.optional().describe('Builds forced by a person (API, CLI, UI), with typed parameters.'),
    nightly: NightlyTrigger.optional().describe('Builds on a timetable.'),
    try: TryTrigger.optional().describe('Builds of an uploaded patch (`shepherd try`).'),
  })
  .superRefine((entry, ctx) => {
    const kinds = (['on_change', 'force', 'nightly', 'try'] as const).filter((k) => entry[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: kinds.length === 0 ? 'expected one of on_change, force, nightly or try' : `expected only one of ${kinds.join(', ')}`,
      });
    }
  });

/** When a notifier speaks. */
export const NotifyWhen = z.enum(['failing', 'recovered', 'finished', 'every_failure']);

const NotifierCommon = {
  name: Name('notifier').describe('Unique notifier name (shown in logs).'),
  builders: z.array(z.string()).optional().describe('Only these builders (default: all).'),
  when: z
    .array(NotifyWhen)
    .min(1)
    .default(['failing', 'recovered'])
    .describe('failing: a builder goes from passing to failing; recovered: back to passing; every_failure: each failed build; finished: every build. github_status notifiers ignore it: they set a status on every build.'),
};

export const NotifierEntry = z
  .strictObject({
    ...NotifierCommon,
    mail: z
      .strictObject({
        to: z.array(z.string()).default([]).describe('Addresses that always receive it (a mailing list).'),
        blamelist: z.boolean().default(true).describe("Also mail the authors of the build's blamelist."),
      })
      .optional()
      .describe('Mail through notify.mail.'),
    webhook: z
      .strictObject({
        url: z.string().url(),
        format: z.enum(['json', 'slack', 'zulip', 'discord']).default('json').describe('json: Shepherd\'s own document; slack/zulip/discord: their incoming-webhook formats.'),
        secret_env: EnvName.optional().describe('Sign the body with HMAC-SHA256 (X-Shepherd-Signature-256) using this secret.'),
      })
      .optional()
      .describe('POST to a URL.'),
    github_status: z
      .strictObject({
        api_url: z.string().url().default('https://api.github.com').describe('GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3).'),
        repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, { message: 'expected "owner/name"' }).describe('Repository the statuses are set on.'),
        token_env: EnvName.describe('Environment variable holding a token allowed to set commit statuses.'),
        context: z.string().default('shepherd/${builder}').describe('Status context; ${builder} is replaced.'),
      })
      .optional()
      .describe('Set commit statuses (pending when a build starts, then its result).'),
  })
  .superRefine((entry, ctx) => {
    const kinds = (['mail', 'webhook', 'github_status'] as const).filter((k) => entry[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: kinds.length === 0 ? 'expected one of mail, webhook or github_status' : `expected only one of ${kinds.join(', ')}`,
      });
    }
  });

export const NotifySection = z.strictObject({
  mail: z
    .strictObject({
      smtp: z.string().regex(/^smtps?:\/\/.+/, { message: 'expected "smtp://HOST:PORT" or "smtps://HOST:PORT"' }).describe('SMTP server.'),
      from: z.string().min(3).describe('Sender address.'),
      user_env: EnvName.optional().describe('Environment variable holding the SMTP user name.'),
      password_env: EnvName.optional().describe('Environment variable holding the SMTP password.'),
    })
    .optional()
    .describe('The mail transport, used by every feature that sends mail.'),
  notifiers: z.array(NotifierEntry).default([]).describe('Who hears about build results, and how.'),
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(100).default(6),
      first_delay: Duration.prefault('5s'),
      max_delay: Duration.prefault('10m'),
    })
    .prefault({})
    .describe('Failed deliveries are retried with exponential backoff; they never affect a build.'),
});

/** Watching the fleet: when a disconnected worker is missing, reminders, orphaning. */
export const FleetSection = z.strictObject({
  announce: z
    .array(z.string().min(3))
    .default([])
    .describe('Addresses for calls for volunteers (a platform lost its worker) and the weekly digest.'),
  missing_after: Duration.prefault('1h').describe('A worker disconnected this long is missing: its admins are mailed.'),
  remind_every: Duration.prefault('1d').describe('While a worker stays missing, its admins are reminded this often.'),
  orphan_after: Duration.prefault('14d').describe('Missing this long, a worker is orphaned: the announce list gets a call for volunteers.'),
  digest: z
    .strictObject({
      cron: z.string().min(9).default('0 8 * * 1').describe('When the weekly digest goes to `announce`: five-field cron ("0 8 * * 1": Mondays at 08:00).'),
      timezone: z.string().default('UTC').describe('Time zone the cron expression is read in (IANA name).'),
    })
    .prefault({})
    .describe("When the farm's health digest is mailed to `announce` (see docs/fleet.md); a suspect worker's admins are told once per suspicion."),
  operators: z
    .array(z.string().min(3))
    .default([])
    .describe('Who approves volunteers\' applications ("Name <mail>"): told of each new one and reminded every `remind_every` while it waits.'),
  join: z
    .strictObject({
      open: z.boolean().default(true).describe('Accept applications from `shepherd join` and the web form (false: refused with 403).'),
      max_pending: z.number().int().min(1).max(1000).default(20).describe('Applications waiting at once; more are refused (429) until operators decide.'),
    })
    .prefault({})
    .describe('Volunteers proposing workers (see docs/joining.md).'),
  health: z
    .strictObject({
      red_for: Duration.prefault('7d').describe('A builder failing this long is flagged (health page, home page, weekly digest), never re-mailed per build.'),
      stale_after: Duration.prefault('1d').describe('A builder with requests waiting this long and no build finished since: stale.'),
      suspect_window: Duration.prefault('7d').describe('Failures of a worker where its peers passed the same revision count over this window...'),
      suspect_threshold: z.number().int().min(1).max(1000).default(3).describe('...and this many make it suspect.'),
      auto_pause_suspects: z.boolean().default(false).describe('Pause a suspect worker when its admins are told (once per suspicion; resuming it sticks).'),
      sample_every: Duration.prefault('1h')
        .refine((ms) => ms >= 60_000, 'expected at least 1m: a sample per minute is plenty, and fewer rows keep the history cheap')
        .describe('How often the farm score is recorded for its history (at least 1m).'),
      queue_wait_window: Duration.prefault('7d').describe('Queue waits (p50/p95 per builder and platform) are computed over this window.'),
    })
    .prefault({})
    .describe('Thresholds of the farm-health score and flags (docs/fleet.md).'),
});

/** A platform: the workers matching a dimension selector, and how many of them should be live. */
export const PlatformEntry = z.strictObject({
  name: Name('platform').describe('Unique platform name, e.g. linux-x86_64.'),
  select: Dimensions.describe('Dimensions a worker must have (all of them) to count for this platform.'),
  tier: z.number().int().min(1).max(3).default(2).describe('1: must always be covered; alerts for tier 1 come first.'),
  redundancy: z.number().int().min(1).max(100).default(2).describe('How many live workers this platform should have.'),
});

/** Which machinery starts and stops a latent pool's instances. */
export const LatentProvider = z.enum(['local', 'command', 'ec2', 'kubernetes']);

/** A latent pool's provider settings: one sub-object, named like its `provider`. */
const LatentProviderOptions = {
  local: z
    .strictObject({})
    .optional()
    .describe("Worker agent processes on the master's host, each in its own directory (what tests and the demo use): no settings yet."),
  command: z
    .strictObject({
      start: Command.describe('Starts one instance; gets the one-time token and the master address in its environment.'),
      stop: Command.describe('Stops one instance, named in its environment.'),
      status: Command.describe("Prints one instance's state."),
      list: Command.describe('Prints the instances this master tagged as its own (for reconciliation after a restart).'),
    })
    .optional()
    .describe("The operator's own scripts (libvirt, a cloud CLI, a lab's power switch)."),
  ec2: z
    .strictObject({
      region: z.string().min(1).describe('AWS region, e.g. eu-west-1.'),
      image: z.string().min(1).describe('AMI id the instances boot from; it needs Node 20 to run the worker bundle.'),
      instance_type: z.string().min(1).describe('EC2 instance type, e.g. t3.large.'),
      spot: z.boolean().default(false).describe('Request spot instances instead of on-demand ones.'),
      subnet: z.string().min(1).optional().describe("Subnet id to start instances in (default: the default VPC's)."),
      security_groups: z.array(z.string().min(1)).default([]).describe('Security group ids (they must let the instance reach the master).'),
      endpoint: z.string().url().optional().describe("EC2 API endpoint (default: the region's; tests point it at a local server)."),
    })
    .optional()
    .describe("Amazon EC2 instances started with RunInstances, tagged as this master's, stopped with TerminateInstances."),
  kubernetes: z
    .strictObject({
      namespace: z.string().min(1).default('default').describe('Namespace the pods run in.'),
      image: z.string().min(1).describe('Container image with Node 20; the pod fetches the worker bundle from the master.'),
      endpoint: z.string().url().optional().describe('API server (default: from the kubeconfig or the in-cluster service account).'),
      token_env: EnvName.optional().describe("Environment variable holding a bearer token for the API server (default: the kubeconfig's credentials)."),
    })
    .optional()
    .describe('One Kubernetes pod per instance.'),
};

/** A pool of latent workers: machines started when queued work needs them, stopped when idle. */
export const LatentPoolEntry = z
  .strictObject({
    name: Name('latent pool').describe('Unique pool name; its instances are named after it.'),
    provider: LatentProvider.describe('local, command, ec2 or kubernetes; its settings go in the sub-object of that name (optional for local).'),
    ...LatentProviderOptions,
    dimensions: Dimensions.default({}).describe("The instances' dimensions: a queued request whose builder selects on them can start an instance."),
    max_instances: z.number().int().min(1).max(1000).default(1).describe('Instances of this pool at once, starting and stopping ones included.'),
    start_timeout: Duration.prefault('10m').describe("An instance not connected this long after its start is stopped, and the start counts as failed (consecutive failures back the pool off: 1m, 2m, 4m... up to 1h)."),
    idle_timeout: Duration.prefault('10m').describe('An instance idle this long is stopped (0: it runs one build, then stops).'),
    cost_per_hour: z.number().min(0).default(0).describe('What an instance costs per hour running, in the currency of `budget.monthly`.'),
    admins: z
      .array(z.string().min(1))
      .default([])
      .describe('Who is mailed when the pool backs off after failed starts (default: fleet.announce).'),
    when: z
      .enum(['always', 'platform-short'])
      .default('always')
      .describe('always: whenever queued work needs it; platform-short: only while a platform these dimensions serve is below its redundancy (volunteers missing).'),
  })
  .superRefine((pool, ctx) => {
    for (const kind of LatentProvider.options) {
      if (kind !== pool.provider && pool[kind] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [kind], message: `settings for provider ${kind}, but provider is ${pool.provider}` });
      }
    }
    if (pool.provider !== 'local' && pool[pool.provider] === undefined) {
      ctx.addIssue({ code: 'custom', path: [pool.provider], message: `provider ${pool.provider} needs its settings under ${pool.provider}` });
    }
  });

/** The spending limit of all latent pools together, per calendar month (UTC). */
export const BudgetSection = z.strictObject({
  monthly: z.number().positive().describe('Spend per month (UTC calendar month) past which no new instance starts; queued builds wait and say why.'),
  alert_at: z
    .number()
    .gt(0)
    .max(1)
    .default(0.8)
    .describe('Share of `monthly` past which fleet.announce is mailed, once per month.'),
});

/** The whole configuration file. */
export const ConfigFile = z
  .strictObject({
    master: MasterSection.prefault({}).describe('The master process.'),
    workers: z.array(WorkerEntry).default([]).describe('Workers allowed to connect.'),
    builders: z.array(BuilderEntry).default([]).describe('What to build, and where.'),
    changes: z.array(ChangeSourceEntry).default([]).describe('Repositories whose new commits are changes.'),
    hooks: HooksSection.prefault({}).describe('Push webhooks from GitHub, GitLab and Gitea.'),
    schedulers: z.array(SchedulerEntry).default([]).describe('What queues builds: new commits, people, timetables, patches.'),
    notify: NotifySection.prefault({}).describe('Telling people about results.'),
    fleet: FleetSection.prefault({}).describe('Missing workers and their admins.'),
    platforms: z.array(PlatformEntry).default([]).describe('Platforms and the redundancy each wants.'),
    latent: z.array(LatentPoolEntry).default([]).describe('Pools of on-demand workers, started when queued work needs them and stopped when idle (see docs/latent.md).'),
    budget: BudgetSection.optional().describe('Spending limit of the latent pools; needed as soon as one has a cost_per_hour.'),
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
    unique(config.changes, 'changes');
    unique(config.schedulers, 'schedulers');
    unique(config.platforms, 'platforms');
    unique(config.latent, 'latent');
    unique(config.notify.notifiers, 'notify.notifiers' as never);
    const workerNames = new Set(config.workers.map((w) => w.name));
    if (config.master.buildbot_listen !== undefined && config.master.buildbot_listen === config.master.listen) {
      ctx.addIssue({ code: 'custom', path: ['master', 'buildbot_listen'], message: `the same address as master.listen (${config.master.listen}): Buildbot workers need a port of their own` });
    }
    config.workers.forEach((worker, i) => {
      if (worker.protocol === 'buildbot' && config.master.buildbot_listen === undefined) {
        ctx.addIssue({ code: 'custom', path: ['workers', i, 'protocol'], message: 'a Buildbot worker connects to master.buildbot_listen, which is not set' });
      }
      // On-demand instances are named POOL-1, POOL-2...: a config worker of such a name would clash with one.
      const pool = config.latent.find((p) => worker.name.startsWith(`${p.name}-`) && /^\d+$/.test(worker.name.slice(p.name.length + 1)));
      if (pool) {
        ctx.addIssue({ code: 'custom', path: ['workers', i, 'name'], message: `"${worker.name}" is the name of an instance of latent pool ${pool.name} (its instances are ${pool.name}-1, ${pool.name}-2...): rename the worker or the pool` });
      }
    });
    config.latent.forEach((pool, i) => {
      // Only local instances run on this host; the others dial the master from elsewhere.
      if (pool.provider !== 'local' && config.master.public_url === undefined) {
        ctx.addIssue({ code: 'custom', path: ['latent', i, 'provider'], message: `instances of pool ${pool.name} (provider ${pool.provider}) connect to the master from another machine: set master.public_url to the address they reach it at` });
      }
    });
    const sourceNames = new Set(config.changes.map((c) => c.name));
    const builderNames = new Set(config.builders.map((b) => b.name));
    config.schedulers.forEach((scheduler, i) => {
      scheduler.builders.forEach((name, j) => {
        if (!builderNames.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['schedulers', i, 'builders', j], message: `no builder named "${name}" in builders` });
        }
      });
      const sources = [scheduler.on_change?.changes ?? [], scheduler.nightly?.changes ?? [], scheduler.try?.changes ?? []].flat();
      const kind = (['on_change', 'nightly', 'try'] as const).find((k) => scheduler[k] !== undefined);
      for (const name of sources) {
        if (!sourceNames.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['schedulers', i, kind ?? 'on_change', 'changes'], message: `no change source named "${name}" in changes` });
        }
      }
      if ((scheduler.nightly || scheduler.try) && sources.length === 0 && sourceNames.size === 0) {
        ctx.addIssue({ code: 'custom', path: ['schedulers', i, kind!], message: 'needs a change source: add one under changes' });
      }
      const cronProblem = scheduler.nightly ? nightlyProblem(scheduler.nightly) : undefined;
      if (cronProblem) {
        ctx.addIssue({ code: 'custom', path: ['schedulers', i, 'nightly', 'cron'], message: cronProblem });
      }
      for (const [param, spec] of Object.entries(scheduler.force?.params ?? {})) {
        if (spec.type === 'choice' && spec.default !== undefined && !spec.choices.includes(spec.default)) {
          ctx.addIssue({ code: 'custom', path: ['schedulers', i, 'force', 'params', param, 'default'], message: `expected one of ${spec.choices.join(', ')}` });
        }
        if (spec.type === 'string' && spec.pattern !== undefined) {
          try {
            new RegExp(spec.pattern);
          } catch (error) {
            ctx.addIssue({ code: 'custom', path: ['schedulers', i, 'force', 'params', param, 'pattern'], message: `not a regular expression: ${(error as Error).message}` });
          }
        }
      }
    });
    config.master.quarantine.forEach((entry, i) => {
      entry.builders?.forEach((name, j) => {
        if (!builderNames.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['master', 'quarantine', i, 'builders', j], message: `no builder named "${name}" in builders` });
        }
      });
    });
    config.latent.forEach((pool, i) => {
      if (pool.when === 'platform-short' && !config.platforms.some((platform) => dimensionsSatisfy(pool.dimensions, platform.select))) {
        ctx.addIssue({
          code: 'custom',
          path: ['latent', i, 'when'],
          message: 'platform-short needs a platform (in platforms) whose select these dimensions satisfy',
        });
      }
      if (pool.cost_per_hour > 0 && config.budget === undefined) {
        ctx.addIssue({ code: 'custom', path: ['latent', i, 'cost_per_hour'], message: 'a pool that costs money needs a budget: set budget.monthly' });
      }
    });
    const digestProblem = nightlyProblem(config.fleet.digest);
    if (digestProblem) {
      ctx.addIssue({ code: 'custom', path: ['fleet', 'digest', 'cron'], message: digestProblem });
    }
    config.notify.notifiers.forEach((notifier, i) => {
      if (notifier.mail && !config.notify.mail) {
        ctx.addIssue({ code: 'custom', path: ['notify', 'notifiers', i, 'mail'], message: 'mail notifiers need the transport: set notify.mail.smtp and notify.mail.from' });
      }
      notifier.builders?.forEach((name, j) => {
        if (!builderNames.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['notify', 'notifiers', i, 'builders', j], message: `no builder named "${name}" in builders` });
        }
      });
    });
    config.builders.forEach((builder, b) => {
      builder.steps.forEach((step, s) => {
        const path = ['builders', b, 'steps', s];
        if ((step.run === undefined) === (step.checkout === undefined)) {
          ctx.addIssue({ code: 'custom', path, message: 'expected exactly one of run or checkout' });
        }
        if (step.checkout && !sourceNames.has(step.checkout.source)) {
          ctx.addIssue({ code: 'custom', path: [...path, 'checkout', 'source'], message: `no change source named "${step.checkout.source}" in changes` });
        }
        if (step.rerun_failed !== undefined && step.test_results === undefined) {
          ctx.addIssue({ code: 'custom', path: [...path, 'rerun_failed'], message: 'needs test_results: the failed tests are read from them' });
        }
        if (step.rerun_failed !== undefined && !step.rerun_failed.includes('{tests}')) {
          ctx.addIssue({ code: 'custom', path: [...path, 'rerun_failed'], message: 'expected {tests} in the command: it is replaced by the failed tests' });
        }
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
export type CheckoutConfig = NonNullable<StepConfig['checkout']>;
export type ChangeSourceConfig = Config['changes'][number];
export type SchedulerConfig = Config['schedulers'][number];
export type ForceParamConfig = z.output<typeof ForceParam>;
export type NotifierConfig = Config['notify']['notifiers'][number];
export type NotifyWhenValue = z.output<typeof NotifyWhen>;
export type FleetConfig = Config['fleet'];
export type PlatformConfig = Config['platforms'][number];
export type LatentPoolConfig = Config['latent'][number];
export type BudgetConfig = NonNullable<Config['budget']>;
export type TestResultsConfig = NonNullable<StepConfig['test_results']>;
