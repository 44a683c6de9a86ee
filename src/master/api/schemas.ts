/**
 * Every schema of the HTTP API, in one place: what requests may carry
 * (params, query strings, bodies: parsed once at the boundary by `route.ts`)
 * and what responses look like (typed views, and the OpenAPI document's
 * components). JSON field names are snake_case; times are epoch milliseconds.
 */
import { z } from 'zod';
import { MaintenanceWindowEntry, NAME_RE } from '../config/schema.js';
import { RESULTS } from '../domain.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import type { MasterEventName } from '../events.js';
import { EVENT_NAMES } from './event-summary.js';

/** Response schemas with a name become `components.schemas` entries in the OpenAPI document. */
export const responseComponents = z.registry<{ id: string; description?: string }>();

function component<S extends z.ZodType>(id: string, description: string, schema: S): S {
  responseComponents.add(schema, { id, description });
  return schema;
}

// ---------------------------------------------------------------- building blocks

const Id = z.number().int().positive();
const Millis = z.number().int().describe('epoch milliseconds');
const Properties = z.record(z.string(), z.string());
const ResultSchema = z.enum(RESULTS);

/** A positive integer in a path or query string (which arrive as text). */
const IdText = z.coerce.number().int().positive();
/** A byte offset in a query string. */
const OffsetText = z.coerce.number().int().nonnegative();
/** `1`/`true` or `0`/`false` in a query string. */
const FlagText = z
  .enum(['1', '0', 'true', 'false'], { error: 'expected 1 or 0' })
  .transform((value) => value === '1' || value === 'true');

// ---------------------------------------------------------------- responses

/** One attempt at a build request. */
export const BuildJson = component(
  'Build',
  'One attempt at a build request, on one worker.',
  z.object({
    id: Id,
    number: z.number().int().describe('Build number, per builder'),
    builder: z.string(),
    worker: z.string(),
    state: z.enum(['running', 'finished']),
    result: ResultSchema.nullable(),
    properties: Properties,
    request_id: Id,
    revision: z.string().nullable().describe('The revision built: got_revision once checked out, else the one requested (null: none)'),
    started_at: Millis,
    finished_at: Millis.nullable(),
    summary: z.string().nullable(),
  }),
);
/** A build as JSON. */
export type BuildJson = z.infer<typeof BuildJson>;

/** One step of a build, with where to read its log. */
export const StepJson = component(
  'Step',
  'One command of a build.',
  z.object({
    id: Id,
    index: z.number().int().nonnegative(),
    name: z.string(),
    state: z.enum(['pending', 'running', 'finished']),
    result: ResultSchema.nullable(),
    command: z.union([z.string(), z.array(z.string())]).nullable(),
    workdir: z.string().nullable(),
    started_at: Millis.nullable(),
    finished_at: Millis.nullable(),
    exit_code: z.number().int().nullable(),
    signal: z.string().nullable(),
    summary: z.string().nullable(),
    log: z.object({
      bytes: z.number().int().nonnegative(),
      truncated: z.boolean(),
      url: z.string().describe('Path of the raw log (text/plain)'),
    }),
  }),
);
/** A step as JSON. */
export type StepJson = z.infer<typeof StepJson>;

/** A new commit on a followed branch. */
export const ChangeJson = component(
  'Change',
  'One new commit on a followed branch of a change source.',
  z.object({
    id: Id,
    source: z.string().describe('Change source name'),
    repository: z.string(),
    branch: z.string(),
    revision: z.string(),
    author: z.string(),
    committer: z.string(),
    message: z.string(),
    files: z.array(z.string()),
    when: Millis.describe('Commit time'),
    via: z.enum(['poll', 'github', 'gitlab', 'gitea']),
    received_at: Millis,
  }),
);
/** A change as JSON. */
export type ChangeJson = z.infer<typeof ChangeJson>;

/** A build that built a change. */
export const ChangeBuildJson = z.object({
  id: Id,
  builder: z.string(),
  number: z.number().int(),
  state: z.enum(['running', 'finished']),
  result: ResultSchema.nullable(),
});

/** A change with the builds whose blamelist holds it. */
export const ChangeWithBuildsJson = component(
  'ChangeWithBuilds',
  'A change and the builds it triggered (whose blamelist holds it).',
  ChangeJson.extend({ builds: z.array(ChangeBuildJson) }),
);
/** A change with its builds as JSON. */
export type ChangeWithBuildsJson = z.infer<typeof ChangeWithBuildsJson>;

/** A build with its steps, as `GET /builds/:id` returns it. */
export const BuildDetailJson = component(
  'BuildDetail',
  'A build with its steps and its blamelist.',
  BuildJson.extend({
    steps: z.array(StepJson),
    blamelist: z.array(ChangeJson).describe("The changes this build is the first to build on its builder, oldest first"),
  }),
);
/** A build with its steps as JSON. */
export type BuildDetailJson = z.infer<typeof BuildDetailJson>;

/** A build request. */
export const RequestJson = component(
  'BuildRequest',
  'A wish to run a builder once; queued until a worker takes it.',
  z.object({
    id: Id,
    builder: z.string(),
    priority: z.number().int(),
    properties: Properties,
    reason: z.string(),
    submitted_by: z.string().nullable(),
    submitted_at: Millis,
    state: z.enum(['queued', 'claimed', 'complete']),
    build_id: Id.nullable().describe('The build running it (claimed) or that completed it (complete)'),
    result: ResultSchema.nullable().describe('The final result, once complete'),
    scheduler: z.string().nullable().describe('The scheduler that queued it (null: the plain force route)'),
    patch_id: Id.nullable().describe('The try patch it applies'),
    change_ids: z.array(Id).describe('The changes it was queued for'),
    waiting: z
      .string()
      .nullable()
      .optional()
      .describe('Queued only (GET /requests and /requests/:id): why it still waits when no connected worker can take it, e.g. the on-demand pool backing off or the budget reached'),
  }),
);
/** A build request as JSON. */
export type RequestJson = z.infer<typeof RequestJson>;

/** A builder, from the configuration, with its last finished build. */
export const BuilderJson = component(
  'Builder',
  'A named recipe and the workers allowed to run it.',
  z.object({
    name: z.string(),
    tags: z.array(z.string()),
    workers: z
      .union([z.array(z.string()), z.record(z.string(), z.string())])
      .describe('Worker names, or a dimension selector'),
    steps: z.array(z.string()),
    priority: z.number().int(),
    properties: Properties,
    last_build: BuildJson.nullable(),
  }),
);
/** A builder as JSON. */
export type BuilderJson = z.infer<typeof BuilderJson>;

/** An on-demand instance's life and cost. */
export const InstanceJson = component(
  'Instance',
  'An on-demand (latent) instance: one machine or process a pool started, running or stopped.',
  z.object({
    id: z.number().int(),
    name: z.string().describe('The worker name its agent connects as (`POOL-N`; later instances reuse it)'),
    pool: z.string(),
    provider: z.string().describe('local, command, ec2 or kubernetes'),
    provider_id: z.string().nullable().describe("The provider's handle (pid directory, EC2 instance id, pod name); null until its start was accepted"),
    state: z.enum(['starting', 'connected', 'building', 'idle', 'stopping', 'stopped', 'failed']),
    started_at: Millis,
    connected_at: Millis.nullable(),
    stopped_at: Millis.nullable(),
    builds: z.number().int().describe('Builds it finished'),
    reason: z.string().nullable().describe('Why it was stopped, or why its start failed'),
    cost: z.number().describe("What it has cost: its running hours × the pool's cost_per_hour"),
  }),
);
export type InstanceJson = z.infer<typeof InstanceJson>;

/** `GET /api/v1/instances`. */
export const InstanceListJson = z.object({ instances: z.array(InstanceJson) });
export type InstanceListJson = z.infer<typeof InstanceListJson>;

/** `GET /api/v1/instances` filters. */
export const InstanceQuery = z.object({
  pool: z.string().optional().describe('Only this pool'),
  alive: z.enum(['true', 'false']).optional().describe('true: only instances not stopped'),
  days: z.coerce.number().int().min(1).max(400).default(31).describe('Instances that ran in the last N days (default 31)'),
});

/** `GET /api/v1/cost`: spend this month against the budget. */
export const CostJson = component(
  'Cost',
  "On-demand instances' spend this month (UTC) per pool against the monthly budget, and a forecast.",
  z.object({
    month: z.string().describe('YYYY-MM (UTC)'),
    budget: z.number().nullable().describe('budget.monthly; null without a budget'),
    alert_at: z.number().nullable().describe('Share of the budget at which the announce list is mailed (budget.alert_at)'),
    spent: z.number(),
    fraction: z.number().describe('spent / budget (0 without a budget)'),
    burn_per_hour: z.number().describe('What the instances running now cost per hour'),
    forecast: z.number().describe('The month’s spend if what runs now keeps running to its end'),
    exhausted: z.boolean().describe('At or past 100%: no new instance starts'),
    pools: z.array(
      z.object({
        name: z.string(),
        provider: z.string(),
        cost_per_hour: z.number(),
        spent: z.number(),
        running: z.number().int().describe('Instances alive now (starting to stopping)'),
        max_instances: z.number().int(),
        when: z.enum(['always', 'platform-short']),
        backoff: z
          .object({ failures: z.number().int(), until: Millis, reason: z.string() })
          .nullable()
          .describe('Set while the pool waits after failed starts'),
      }),
    ),
    notes: z.array(z.string()).describe('Farm-wide reasons nothing starts (the budget reached)'),
  }),
);
export type CostJson = z.infer<typeof CostJson>;

/** A worker's configuration and live state. */
export const WorkerJson = component(
  'Worker',
  "A configured worker and its live state.",
  z.object({
    name: z.string(),
    dimensions: z.record(z.string(), z.string()),
    max_builds: z.number().int(),
    state: z.enum(['building', 'idle', 'paused', 'offline', 'missing', 'orphaned']),
    connected: z.boolean(),
    builds: z.array(Id).describe('Ids of the builds running on it now'),
    admins: z.array(z.string()).describe("Who runs it: the config's admins, else the contact its admin set, else what the agent reports"),
    admin_mismatch: z.boolean().describe("The agent reports an admin contact that is not among the config's admins"),
    notes: z.string().nullable(),
    paused: z.object({ by: z.string().nullable(), at: Millis.nullable() }).nullable().describe('Set while its admin has paused it: it takes no builds'),
    info: z.record(z.string(), z.unknown()).nullable().describe('What the agent reported last (os, arch, admin...)'),
    protocol: z.enum(['shepherd', 'buildbot']).nullable(),
    connected_at: Millis.nullable(),
    last_seen: Millis.nullable(),
    uptime: z
      .object({ d7: z.number().min(0).max(1), d30: z.number().min(0).max(1) })
      .describe('Share of the last 7 and 30 days it was connected (0 to 1)'),
    builds_run: z.number().int().describe('Finished builds it ran'),
    source: z
      .enum(['config', 'registered', 'latent'])
      .describe("`config`: from the config file; `registered`: created by approving a volunteer's application; `latent`: an on-demand instance"),
    instance: InstanceJson.nullable().describe('For an on-demand instance: its pool, state, age and cost'),
    maintenance: z
      .array(z.object({ cron: z.string(), duration_ms: z.number().int(), from: z.enum(['config', 'agent', 'admin']) }))
      .describe("Maintenance windows (no missing-worker alert while one is open): the config's, the agent's own config's, and those its admin set"),
  }),
);
/** A worker as JSON. */
export type WorkerJson = z.infer<typeof WorkerJson>;

/** The one error shape of every failed call. */
export const ErrorJson = component(
  'Error',
  'Every error: a stable code (see docs/errors.md), a message saying what to do, optional details.',
  z.object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
);

/** `GET /api/v1`. */
export const ApiInfoJson = component(
  'ApiInfo',
  'What this server is.',
  z.object({ name: z.literal('shepherd'), version: z.string(), api: z.literal('v1') }),
);
/** `GET /api/v1` as JSON. */
export type ApiInfoJson = z.infer<typeof ApiInfoJson>;
/** `GET /health` and acknowledgements. */
export const OkJson = component('Ok', 'The call succeeded.', z.object({ ok: z.literal(true) }));
/** `GET /builders`. */
export const BuilderListJson = component('BuilderList', 'Every configured builder.', z.object({ builders: z.array(BuilderJson) }));
/** `GET /builders/:name`. */
export const BuilderDetailJson = component(
  'BuilderDetail',
  'One builder, its queued requests and the configured workers that may run it.',
  z.object({
    builder: BuilderJson,
    pending: z.array(RequestJson),
    workers: z.array(z.string()).describe('Names of the configured workers that match the builder'),
  }),
);
/** A builder's detail as JSON. */
export type BuilderDetailJson = z.infer<typeof BuilderDetailJson>;
/** `GET /builds`. */
export const BuildListJson = component(
  'BuildList',
  'A page of builds, newest first.',
  z.object({
    builds: z.array(BuildJson),
    next: Id.nullable().describe('Pass as `before` for the next page; null on the last page'),
  }),
);
/** A page of builds as JSON. */
export type BuildListJson = z.infer<typeof BuildListJson>;
/** `GET /workers`. */
export const WorkerListJson = component('WorkerList', 'Every configured worker.', z.object({ workers: z.array(WorkerJson) }));
/** `GET /requests`. */
export const RequestListJson = component(
  'RequestList',
  'Queued requests, in the order they will be served.',
  z.object({ requests: z.array(RequestJson) }),
);
/** A request wrapped, as writes on requests return it. */
export const RequestEnvelopeJson = component('RequestEnvelope', 'One build request.', z.object({ request: RequestJson }));

/** `GET /changes`. */
export const ChangeListJson = component(
  'ChangeList',
  'A page of changes, newest first, each with the builds it triggered.',
  z.object({
    changes: z.array(ChangeWithBuildsJson),
    next: Id.nullable().describe('Pass as `before` for the next page; null on the last page'),
  }),
);
/** `GET /changes/:id`. */
export const ChangeEnvelopeJson = component('ChangeEnvelope', 'One change with its builds.', z.object({ change: ChangeWithBuildsJson }));

/** A configured change source. */
export const ChangeSourceJson = component(
  'ChangeSource',
  'A repository Shepherd follows.',
  z.object({
    name: z.string(),
    git: z.string(),
    branches: z.array(z.string()),
    poll_ms: z.number().int().describe('Polling interval (0: webhooks only)'),
    repository: z.string().nullable().describe('The name webhooks give it ("owner/name")'),
    heads: z.record(z.string(), z.string()).describe('Branch heads last recorded'),
  }),
);
/** `GET /sources`. */
export const ChangeSourceListJson = component('ChangeSourceList', 'Every configured change source.', z.object({ sources: z.array(ChangeSourceJson) }));
/** `POST /sources/:name/poll`. */
export const PollResultJson = component(
  'PollResult',
  'The changes one poll found (empty when nothing moved).',
  z.object({ changes: z.array(ChangeJson) }),
);

/** A force parameter as the API shows it. */
const ForceParamJson = z.object({
  type: z.enum(['string', 'boolean', 'choice']),
  default: z.union([z.string(), z.boolean()]).optional(),
  choices: z.array(z.string()).optional(),
  required: z.boolean().optional(),
  pattern: z.string().optional(),
  description: z.string().optional(),
});

/** A configured scheduler. */
export const SchedulerJson = component(
  'Scheduler',
  'What queues builds: new commits (on_change), people (force), a timetable (nightly) or patches (try).',
  z.object({
    name: z.string(),
    kind: z.enum(['on_change', 'force', 'nightly', 'try']),
    builders: z.array(z.string()),
    params: z.record(z.string(), ForceParamJson).optional().describe('force: its typed parameters'),
    next_run: Millis.nullable().optional().describe('nightly: when it fires next'),
  }),
);
/** A scheduler as JSON. */
export type SchedulerJson = z.infer<typeof SchedulerJson>;
/** `GET /schedulers`. */
export const SchedulerListJson = component('SchedulerList', 'Every configured scheduler.', z.object({ schedulers: z.array(SchedulerJson) }));
/** Several requests, as a scheduler force or a try returns them. */
export const RequestsEnvelopeJson = component('RequestsEnvelope', 'The build requests queued, one per builder.', z.object({ requests: z.array(RequestJson) }));

/** A stored try patch. */
export const PatchJson = component(
  'Patch',
  'A diff uploaded for a try build.',
  z.object({
    id: Id,
    source: z.string(),
    base_revision: z.string(),
    branch: z.string(),
    author: z.string(),
    comment: z.string(),
    size_bytes: z.number().int(),
    created_at: Millis,
  }),
);
/** A patch as JSON. */
export type PatchJson = z.infer<typeof PatchJson>;
/** `POST /try`. */
export const TryResultJson = component(
  'TryResult',
  'The stored patch and the build requests queued for it.',
  z.object({ patch: PatchJson, requests: z.array(RequestJson) }),
);

/** A builder that is failing now, for the home page. */
export const FailingBuilderJson = z.object({
  builder: z.string(),
  tags: z.array(z.string()),
  since: Millis.describe('When the first build of the failing streak started'),
  first_failing: BuildJson.extend({ blamelist: z.array(ChangeJson) }).describe('The first failing build of the streak, with its blamelist (who probably broke it)'),
  last: BuildJson.describe('The latest finished build'),
  failing_builds: z.number().int().describe('Finished builds in the streak so far'),
});
/** A failing builder as JSON. */
export type FailingBuilderJson = z.infer<typeof FailingBuilderJson>;

/** `GET /overview`: what needs attention now. */
export const OverviewJson = component(
  'Overview',
  'What needs attention now: failing builders, disconnected workers, the queue, builds running.',
  z.object({
    failing: z.array(FailingBuilderJson).describe('Builders whose latest counted build failed, longest-failing first'),
    workers: z.object({
      total: z.number().int(),
      connected: z.number().int(),
      offline: z.array(z.object({ name: z.string(), last_seen: Millis.nullable(), admin: z.string().nullable() })),
    }),
    queue: z.object({ length: z.number().int(), oldest: RequestJson.nullable() }),
    running: z.array(BuildJson),
  }),
);
/** The overview as JSON. */
export type OverviewJson = z.infer<typeof OverviewJson>;

/** One cell of the grid: a build of a builder that covered a change. */
export const GridCellJson = z.object({
  change_id: Id,
  builder: z.string(),
  build_id: Id,
  number: z.number().int(),
  state: z.enum(['running', 'finished']),
  result: ResultSchema.nullable(),
});

/** `GET /grid`: builders × recent changes (the grid and console views). */
export const GridJson = component(
  'Grid',
  'The newest changes (rows of the console, columns of the grid) and, per builder, the builds that covered each.',
  z.object({
    builders: z.array(z.object({ name: z.string(), tags: z.array(z.string()) })),
    changes: z.array(ChangeJson).describe('Newest first'),
    cells: z.array(GridCellJson).describe('A build appears under every change in its blamelist; newest build first per cell'),
  }),
);
/** The grid as JSON. */
export type GridJson = z.infer<typeof GridJson>;

/** `GET /coverage`: platforms against the redundancy wanted, and builders nobody runs. */
export const CoverageJson = component(
  'Coverage',
  'Each platform with its workers, live ones, builders and last green build (tier 1 first, the shortest first); what kinds of workers are lacking; builders no worker can or does run.',
  z.object({
    platforms: z.array(
      z.object({
        name: z.string(),
        tier: z.number().int(),
        redundancy: z.number().int().describe('Live workers wanted'),
        select: Properties.describe('Dimensions a worker needs (all of them) to count for the platform'),
        workers: z.array(z.string()).describe('Configured workers that count for the platform'),
        live: z.array(z.string()).describe('Those connected now'),
        builders: z.array(z.string()).describe('Builders that run on the platform'),
        short: z.boolean().describe('Fewer live workers than the redundancy wanted'),
        last_green: z
          .object({ id: Id, builder: z.string(), number: z.number().int(), finished_at: Millis })
          .nullable()
          .describe("The newest SUCCESS build of the platform's builders (null: none)"),
      }),
    ),
    lacking: z
      .array(z.object({ platform: z.string(), tier: z.number().int(), select: Properties, need: z.number().int().describe('Live workers still wanted') }))
      .describe('What kinds of workers the farm lacks: one entry per short platform'),
    uncoverable_builders: z.array(z.string()).describe("Builders no configured worker's dimensions can run (agents may still report more when they connect)"),
    unrun_builders: z.array(z.string()).describe('Builders whose matching workers are all disconnected'),
  }),
);
/** The coverage document as JSON. */
export type CoverageJson = z.infer<typeof CoverageJson>;

/** `GET /health`: the farm's health score and what to act on. */
export const HealthJson = component(
  'Health',
  "The farm's health (0-100, see docs/fleet.md for the formula), each platform's, and what pulls it down: builders red for long, stale builders, suspect workers, missing and orphaned workers; `attention` lists them most costly first.",
  z.object({
    score: z.number().int().min(0).max(100),
    platforms: z.array(
      z.object({
        name: z.string(),
        tier: z.number().int(),
        score: z.number().int().min(0).max(100),
        live: z.number().int().describe('Live workers'),
        redundancy: z.number().int().describe('Live workers wanted'),
        short: z.boolean(),
      }),
    ),
    red_builders: z
      .array(z.object({ builder: z.string(), count: z.number().int(), since: Millis, first_failing_build_id: Id }))
      .describe('Builders red for at least the red threshold (7 days): counted failing builds in a row, since the first of them finished'),
    stale_builders: z
      .array(z.object({ builder: z.string(), since: Millis.describe('When the oldest request still waiting was queued') }))
      .describe('Builders with a request waiting at least the stale threshold (1 day) and no build finishing since'),
    suspect_workers: z
      .array(
        z.object({
          worker: z.string(),
          count: z.number().int(),
          since: Millis,
          evidence: z.array(
            z.object({
              builder: z.string(),
              revision: z.string(),
              failed_at: Millis,
              failed_build_id: Id,
              passed_on: z.string(),
              passed_build_id: Id,
            }),
          ),
        }),
      )
      .describe('Workers that failed revisions other workers of the same builder passed (3 in 7 days)'),
    missing_workers: z
      .array(z.object({ name: z.string(), state: z.enum(['missing', 'orphaned']), since: Millis.nullable().describe('Last seen'), admins: z.array(z.string()) }))
      .describe('Workers disconnected past fleet.missing_after (missing) or fleet.orphan_after (orphaned)'),
    worker_states: z.record(z.string(), z.number().int()).describe('How many configured workers are in each state'),
    attention: z
      .array(
        z.object({
          kind: z.enum(['platform_short', 'worker_orphaned', 'worker_missing', 'builder_red', 'builder_stale', 'worker_suspect']),
          subject: z.string().describe('The platform, worker or builder'),
          points: z.number().describe("Points of the farm's score it costs"),
          message: z.string(),
        }),
      )
      .describe('What to act on, most costly first'),
    queue_waits: z
      .array(
        z.object({
          builder: z.string(),
          platform: z.string().describe('The platform of the worker that took the builds (config `platforms`; `other` when none matches)'),
          builds: z.number().int(),
          p50_ms: z.number().int(),
          p95_ms: z.number().int(),
        }),
      )
      .describe('How long requests waited for a worker over `fleet.health.queue_wait_window`, per builder and platform, longest p95 first'),
  }),
);
/** The health document as JSON. */
export type HealthJson = z.infer<typeof HealthJson>;

/** Filters of `GET /grid`. */
export const GridQuery = z.strictObject({
  changes: z.coerce.number().int().min(1).max(200).default(50).describe('How many recent changes'),
  builder: z.string().min(1).optional().describe('Only builders whose name contains this'),
  tag: z.string().min(1).optional().describe('Only builders with this tag'),
  branch: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
});

// ---------------------------------------------------------------- requests

/** Filters and paging of `GET /changes`. */
export const ChangesQuery = z.strictObject({
  source: z.string().min(1).optional(),
  branch: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: IdText.optional().describe('The `next` cursor of the previous page'),
});

/** `POST /schedulers/:name/force`. */
export const SchedulerForceBody = z
  .strictObject({
    builders: z.array(z.string().min(1)).min(1).optional().describe("Default: all the scheduler's builders"),
    params: z.record(z.string(), z.union([z.string(), z.boolean()])).default({}).describe('Values of the typed parameters'),
    reason: z.string().min(1).max(2000).optional(),
    submitted_by: z.string().min(1).max(200).optional().describe('Who asked (default "api")'),
    revision: z.string().max(200).optional().describe('Revision to build (default: the branch head)'),
    branch: z.string().max(250).optional(),
  })
  .prefault({});

/** `POST /try`. */
export const TryBody = z.strictObject({
  scheduler: z.string().min(1).optional().describe('The try scheduler (default: the only one)'),
  builders: z.array(z.string().min(1)).min(1),
  patch_base64: z.string().min(1).describe('The diff (`git diff --binary`), base64-encoded'),
  base_revision: z.string().max(200).default('').describe('The revision it applies to (empty: the branch head when the build starts)'),
  branch: z.string().max(250).optional(),
  author: z.string().min(1).max(300).describe('"Name <mail>": the result is reported to them'),
  comment: z.string().max(2000).optional(),
});

/** `:id` of a build, step or request. */
export const IdParams = z.strictObject({ id: IdText });
/** `:name` of a builder or worker. */
export const NameParams = z.strictObject({ name: z.string().min(1) });
/** `/builders/:name/builds/:number`. */
export const BuilderBuildParams = z.strictObject({ name: z.string().min(1), number: IdText });
/** `/builds/:id/steps/:step`: the step's index or name. */
export const BuildStepParams = z.strictObject({
  id: IdText,
  step: z.string().min(1).describe("The step's name, or its index from 0"),
});

/** Filters and paging of `GET /builds`. */
export const BuildsQuery = z.strictObject({
  builder: z.string().min(1).optional(),
  result: ResultSchema.optional(),
  state: z.enum(['running', 'finished']).optional(),
  worker: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: IdText.optional().describe('The `next` cursor of the previous page'),
});

/** Byte range and modes of the log routes. */
export const LogQuery = z
  .strictObject({
    start: OffsetText.default(0).describe('First byte (default 0)'),
    end: OffsetText.optional().describe('Byte after the last one (default: the end)'),
    download: FlagText.optional().describe('1: send as an attachment'),
    follow: FlagText.optional().describe('1: keep streaming live output until the step finishes'),
  })
  .refine((query) => query.end === undefined || query.end >= query.start, {
    path: ['end'],
    message: 'expected end >= start',
  });

/** `GET /events?types=a,b`: only those events (default: all). */
export const EventsQuery = z.strictObject({
  types: z
    .string()
    .transform((text, ctx) => {
      const names = text.split(',').map((name) => name.trim()).filter(Boolean);
      const unknown = names.filter((name) => !(EVENT_NAMES as readonly string[]).includes(name));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown event ${unknown.join(', ')}; expected some of ${EVENT_NAMES.join(', ')}` });
        return z.NEVER;
      }
      return names as MasterEventName[];
    })
    .optional()
    .describe(`Comma-separated event names (default: all): ${EVENT_NAMES.join(', ')}`),
});

/** `POST /builders/:name/force`. */
export const ForceBody = z
  .strictObject({
    properties: Properties.optional().describe("Merged over the builder's properties"),
    reason: z.string().min(1).max(2000).optional(),
    priority: z.number().int().optional().describe("Default: the builder's priority"),
    submitted_by: z.string().min(1).max(200).optional().describe('Who asked (default "api")'),
  })
  .prefault({});

/** `POST /workers/:name/pause`. */
export const PauseBody = z.strictObject({ reason: z.string().min(1).max(500).optional() }).prefault({});
/** `POST /workers/:name/contact`. */
export const ContactBody = z.strictObject({
  contact: z.string().min(3).max(300).optional().describe('"Name <mail>": who runs the machine'),
  notes: z.string().max(2000).optional(),
});

/** `POST /workers/:name/maintenance`: replaces the windows its admin set. */
export const MaintenanceBody = z.strictObject({
  windows: z
    .array(MaintenanceWindowEntry)
    .max(50)
    .describe('Each opens at `cron` (five fields, UTC) and lasts `duration` ("3h"); an empty list clears them'),
});

/** `POST /api/v1/applications`: a volunteer proposing a worker. */
export const JoinBody = z.strictObject({
  name: z.string().max(100).regex(NAME_RE, { message: 'expected a worker name of letters, digits, ".", "_" or "-"' }).describe('The worker name proposed'),
  dimensions: z
    .record(z.string().min(1).max(100), z.string().min(1).max(200))
    .refine((d) => Object.keys(d).length <= 50, 'at most 50 dimensions')
    .describe('What the machine is (os, arch, libc...): builders select workers on these'),
  max_builds: z.number().int().min(1).max(64).default(1),
  contact: z
    .string()
    .min(3)
    .max(300)
    .regex(/^[^<>]*<[^<>@\s]+@[^<>@\s]+>$|^[^<>@\s]+@[^<>@\s]+$/, { message: 'expected "Name <mail@example.org>" or a mail address' })
    .describe("The volunteer who will run it: told of the decision and, later, when the worker goes missing"),
  notes: z.string().max(2000).optional().describe('Anything operators should know (where it runs, how long it is offered)'),
});
/** A join request as sent. */
export type JoinBody = z.infer<typeof JoinBody>;

/** `POST /applications/:id/approve`. */
export const ApproveBody = z
  .strictObject({
    name: z.string().max(100).regex(NAME_RE, { message: 'expected a worker name of letters, digits, ".", "_" or "-"' }).optional().describe('Create the worker under another name than proposed'),
    max_builds: z.number().int().min(1).max(1000).optional(),
    by: z.string().min(1).max(200).optional().describe('Who decided (default "operator"); the CLI sends the local user name'),
  })
  .prefault({});
/** `POST /applications/:id/decline`. */
export const DeclineBody = z.strictObject({
  reason: z.string().min(1).max(2000).describe('Told to the volunteer'),
  by: z.string().min(1).max(200).optional(),
});
/** `POST /workers/:name/retire`. */
export const RetireBody = z.strictObject({ by: z.string().min(1).max(200).optional() }).prefault({});
/** `/applications/:id`. */
export const ApplicationParams = z.strictObject({ id: IdText });

/** An application, as operators see it (never its token). */
export const ApplicationJson = component(
  'Application',
  "A volunteer's proposal of a worker, and what operators decided.",
  z.object({
    id: Id,
    name: z.string(),
    dimensions: z.record(z.string(), z.string()),
    max_builds: z.number().int(),
    contact: z.string(),
    notes: z.string().nullable(),
    state: z.enum(['pending', 'approved', 'declined']),
    submitted_at: Millis,
    decided_by: z.string().nullable(),
    decided_at: Millis.nullable(),
    reason: z.string().nullable(),
    worker: z.string().nullable().describe('Approved: the worker it created'),
    platforms: z.array(z.string()).describe('Platforms (config `platforms`) the proposed machine would count for'),
    builders: z.array(z.string()).describe('Builders it could run, from its dimensions'),
  }),
);
/** An application as JSON. */
export type ApplicationJson = z.infer<typeof ApplicationJson>;
/** `GET /applications`. */
export const ApplicationListJson = component('ApplicationList', 'Applications, newest first.', z.object({ applications: z.array(ApplicationJson) }));
/** `GET /applications?state=`. */
export const ApplicationsQuery = z.strictObject({ state: z.enum(['pending', 'approved', 'declined']).optional() });
/** `POST /applications`: what the volunteer keeps. */
export const JoinReplyJson = component(
  'JoinReply',
  'The application and the token its volunteer collects the outcome with (shown only here).',
  z.object({
    application: ApplicationJson,
    token: z.string().describe('Keep it: `shepherd join --status ID --token TOKEN` (or the join page) shows the outcome and, once approved, the secret'),
    status_url: z.string(),
  }),
);
/** The join reply as JSON. */
export type JoinReplyJson = z.infer<typeof JoinReplyJson>;
/** `GET /applications/:id/status` (the volunteer, with the application's token). */
export const ApplicationStatusJson = component(
  'ApplicationStatus',
  "Where a volunteer's application stands; once approved, the new worker's secret, exactly once.",
  z.object({
    id: Id,
    state: z.enum(['pending', 'approved', 'declined']),
    reason: z.string().nullable(),
    worker: z.string().nullable(),
    secret: z.string().nullable().describe('Approved: the worker secret, returned by the first call after approval only'),
    secret_collected_at: Millis.nullable(),
    command: z.string().nullable().describe('Approved, first call: the exact command that starts the agent'),
    config: z.string().nullable().describe('Approved, first call: the worker config file to save as worker.yml'),
  }),
);
/** An application's status as JSON. */
export type ApplicationStatusJson = z.infer<typeof ApplicationStatusJson>;
/** A retired worker: its history stays. */
export const RetiredWorkerJson = component(
  'RetiredWorker',
  'A registered worker that was retired; its builds and presence history stay.',
  z.object({
    name: z.string(),
    dimensions: z.record(z.string(), z.string()),
    admins: z.array(z.string()),
    application_id: Id,
    created_at: Millis,
    retired_at: Millis,
    retired_by: z.string().nullable(),
    builds_run: z.number().int(),
  }),
);
/** A retired worker as JSON. */
export type RetiredWorkerJson = z.infer<typeof RetiredWorkerJson>;
/** `GET /retired-workers`. */
export const RetiredWorkerListJson = component('RetiredWorkerList', 'Retired workers, most recently retired first.', z.object({ workers: z.array(RetiredWorkerJson) }));
/** `GET /health/history?days=N`: how far back (default 30 days). */
export const HealthHistoryQuery = z.strictObject({ days: z.coerce.number().int().min(1).max(366).default(30) });
/** `GET /health/history`. */
export const HealthHistoryJson = component(
  'HealthHistory',
  "The farm's score over time, one sample per `fleet.health.sample_every`, oldest first.",
  z.object({
    samples: z.array(z.object({ at: Millis, score: z.number(), platforms: z.record(z.string(), z.number()) })),
  }),
);
/** Health history as JSON. */
export type HealthHistoryJson = z.infer<typeof HealthHistoryJson>;

/** `POST /builds/:id/cancel`. */
export const CancelBody = z.strictObject({ reason: z.string().min(1).max(2000).optional() }).prefault({});

/** `GET /builds/:id/repro?format=json`: the script's parts as JSON instead of the script (default `sh`). */
export const ReproQuery = z.strictObject({
  format: z.enum(['sh', 'json']).default('sh').describe('sh: the script (text/x-shellscript); json: the script and the parts it was made from'),
});
/** A property name, as `${{ props.NAME }}` can refer to it. */
const PropertyName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected a property name (letters, digits, "_", "." or "-")');
/** `POST /builds/:id/rebuild`. */
export const RebuildBody = z
  .strictObject({
    properties: z.record(PropertyName, z.string().max(10_000)).optional().describe("Merged over the original request's properties"),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name (letters, digits and "_")'), z.string().max(10_000))
      .optional()
      .describe("Added to every step's environment, over the steps' own (as `env.NAME` properties)"),
    reason: z.string().min(1).max(2000).optional(),
    submitted_by: z.string().min(1).max(200).optional().describe('Who asked (default "api")'),
  })
  .prefault({});

// ---------------------------------------------------------------- artifacts (files steps sent back)

/** A file a step sent back, or one it announced as skipped. */
export const ArtifactJson = component(
  'Artifact',
  'A file a step sent back (an artifact, or a test results file), or one the size limits left out.',
  z.object({
    id: Id,
    name: z.string().describe("Path relative to the step's working directory"),
    kind: z.enum(['artifact', 'test_results']),
    step: z.object({ id: Id, index: z.number().int().nonnegative(), name: z.string() }),
    size: z.number().int().nonnegative().describe('Bytes (of the file on the worker, for a skipped one)'),
    skipped: z.string().nullable().describe('Why it was not stored; null when it was'),
    created_at: Millis,
    url: z.string().nullable().describe('Where to download it; null for a skipped file'),
  }),
);
/** An artifact as JSON. */
export type ArtifactJson = z.infer<typeof ArtifactJson>;
/** `GET /builds/:id/artifacts`. */
export const ArtifactListJson = component(
  'ArtifactList',
  "A build's files, in the order they were stored.",
  z.object({ build_id: Id, artifacts: z.array(ArtifactJson) }),
);
/** An artifact list as JSON. */
export type ArtifactListJson = z.infer<typeof ArtifactListJson>;
/** `GET /builds/:id/artifacts?kind=`. */
export const ArtifactListQuery = z.strictObject({
  kind: z.enum(['artifact', 'test_results']).optional().describe('Only files of this kind'),
});
/** `/builds/:id/artifacts/*`: the file's name (slashes included). */
export const ArtifactParams = z.strictObject({
  id: IdText,
  '*': z.string().min(1).describe("The file's name, as the list gives it"),
});
/** `GET /builds/:id/artifacts/*?step=&kind=`: which one, when several steps sent a file of that name. */
export const ArtifactQuery = z.strictObject({
  step: z.string().min(1).optional().describe("The step's name or index"),
  kind: z.enum(['artifact', 'test_results']).optional(),
});

// ---------------------------------------------------------------- per-test results (issue 6, tests)

const TestOutcomeSchema = z.enum(['passed', 'failed', 'error', 'skipped']);
/** One test's outcome in one step. */
export const TestResultJson = component(
  'TestResult',
  "One test's outcome in one step (re-run rows come from a re-run of failed tests).",
  z.object({
    id: Id,
    build_id: Id,
    step_id: Id,
    builder: z.string(),
    worker: z.string(),
    platform: z.string().nullable().describe("The worker's platform when it ran: a configured platform, else its dimensions"),
    revision: z.string().nullable(),
    name: z.string(),
    suite: z.string().nullable(),
    result: TestOutcomeSchema,
    duration_ms: z.number().int().nullable(),
    message: z.string().nullable().describe('Failure message and traceback (first and last 4 KB of a long one), or a skip reason'),
    flaky: z.boolean(),
    rerun: z.boolean(),
    quarantined: z.boolean(),
    at: Millis,
  }),
);
/** A test result as JSON. */
export type TestResultJson = z.infer<typeof TestResultJson>;
/** `GET /builds/:id/tests`. */
export const BuildTestsJson = component(
  'BuildTests',
  "A build's tests, failures first, with counts (re-run rows are listed but not counted).",
  z.object({
    build_id: Id,
    summary: z.string().describe('"3 failed of 4,126"'),
    counts: z.object({ failed: z.number().int(), error: z.number().int(), skipped: z.number().int(), passed: z.number().int() }),
    total: z.number().int(),
    flaky: z.number().int(),
    quarantined: z.number().int().describe('Failures that were quarantined'),
    tests: z.array(TestResultJson),
    next_offset: z.number().int().nullable().describe('Pass as `offset` for the next page (null: last page)'),
  }),
);
/** A build's tests as JSON. */
export type BuildTestsJson = z.infer<typeof BuildTestsJson>;
/** Paging of `GET /builds/:id/tests`. */
export const BuildTestsQuery = z.strictObject({
  offset: OffsetText.default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  failures: FlagText.optional().describe('1: only failed and errored tests'),
});
/** What separates the workers where a test failed from those where it passed. */
export const SeparationJson = z.object({
  revision: z.string(),
  failing_workers: z.array(z.string()),
  passing_workers: z.array(z.string()),
  values: z.array(z.object({ key: z.string(), value: z.string() })).describe('Values every failing worker has and no passing one has'),
  keys: z.array(z.object({ key: z.string(), failing: z.array(z.string()), passing: z.array(z.string()) })).describe('Keys whose values never meet'),
  sentence: z.string().nullable().describe('"fails only where arch=s390x" (null: no dimension separates them)'),
});
/** `GET /tests/history`. */
export const TestHistoryJson = component(
  'TestHistory',
  "A test's runs across builders, workers and revisions, newest first, and what separates failing from passing workers.",
  z.object({
    name: z.string(),
    runs: z.array(TestResultJson),
    next: Id.nullable().describe('Pass as `before` for older runs (null: no more)'),
    separation: SeparationJson.nullable().describe('For the newest revision where it both failed and passed'),
  }),
);
/** A test's history as JSON. */
export type TestHistoryJson = z.infer<typeof TestHistoryJson>;
/** `GET /tests/history?name=`. */
export const TestHistoryQuery = z.strictObject({
  name: z.string().min(1).max(2000).describe("The test's full name"),
  builder: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: IdText.optional().describe('The `next` cursor of the previous page'),
});
/** A quarantine entry, from the config or the API. */
export const QuarantineJson = component(
  'QuarantineEntry',
  'A known-flaky test whose failures make a step WARNINGS, not FAILURE.',
  z.object({
    id: Id.nullable().describe('API entries: the id to DELETE; config entries: null'),
    source: z.enum(['config', 'api']),
    test: z.string().describe('A test name, or a glob (`*` any run of characters)'),
    builders: z.array(z.string()).nullable().describe('null: every builder'),
    reason: z.string(),
    added_by: z.string().nullable(),
    added_at: Millis.nullable(),
  }),
);
/** A quarantine entry as JSON. */
export type QuarantineJson = z.infer<typeof QuarantineJson>;
/** `GET /quarantine`. */
export const QuarantineListJson = component('QuarantineList', 'Every quarantine entry: the config\'s, then the API\'s.', z.object({ entries: z.array(QuarantineJson) }));
/** `POST /quarantine`. */
export const QuarantineBody = z.strictObject({
  test: z.string().min(1).max(500).describe('A test name, or a glob (`*` any run of characters, `?` one)'),
  builders: z.array(z.string().min(1)).min(1).optional().describe('Only on these builders (default: all)'),
  reason: z.string().min(1).max(500).describe('Why (an issue link)'),
  added_by: z.string().min(1).max(200).optional().describe('Who (default "api")'),
});

/** One audit entry, as the API shows it. */
export const DebugSessionJson = component(
  'DebugSession',
  'A debug session: who asked, on which worker, how it ended (the audit).',
  z.object({
  session: z.string(),
  build_id: z.number().int(),
  worker: z.string(),
  user: z.string(),
  command: z.array(z.string()).nullable().describe('The one command asked for; null for a shell'),
  mode: z.enum(['pty', 'pipe']).nullable(),
  started_at: z.number().int(),
  ended_at: z.number().int().nullable(),
  exit_code: z.number().int().nullable(),
  refused_reason: z.string().nullable(),
  end_reason: z.string().nullable(),
  recording: z.string().nullable().describe('URL path of the asciicast v2 recording (needs the API token)'),
  }),
);
/** A debug session as JSON. */
export type DebugSessionJson = z.infer<typeof DebugSessionJson>;

/** `GET /builds/:id/debug-sessions`. */
export const DebugSessionList = component('DebugSessionList', "A build's debug sessions, newest first.", z.object({ sessions: z.array(DebugSessionJson) }));

/** The JSON status messages the master sends a debug session's client (text frames; output travels in binary frames). */
export type DebugClientStatus =
  | { type: 'session'; session: string; build_id: number; worker: string }
  | { type: 'pending'; note: string }
  | { type: 'opened'; mode: 'pty' | 'pipe'; note?: string; cwd: string; max_ms: number }
  | { type: 'refused'; reason: string }
  | { type: 'exit'; exit_code: number | null; signal: string | null; reason: string | null }
  | { type: 'error'; code: string; message: string };
