/**
 * The schedulers' shell: listens for new changes, runs the quiet-period and
 * nightly timers on the injected Clock, saves what must survive a restart in
 * the store, and queues requests through the master's `SubmitRequest`. The
 * decisions themselves live in on-change.ts, nightly.ts, force-params.ts and
 * request-shape.ts.
 */
import type { Logger } from 'pino';
import type { SubmitRequest } from '../api/control.js';
import type { ChangeSourceConfig, Config, ForceParamConfig, SchedulerConfig } from '../config/schema.js';
import { formatSize } from '../config/units.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { BuildRequest, Change, Millis, Patch } from '../domain.js';
import { ShepherdError } from '../errors.js';
import type { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';
import { validateForceParams } from './force-params.js';
import {
  addChange,
  batchesFromState,
  batchesToState,
  changeFilter,
  mergeBatches,
  nextDeadline,
  takeDue,
  type ChangeBatch,
  type ChangeFilter,
  type OnChangeConfig,
} from './on-change.js';
import { nextFireTime, nightlyFromState, nightlyProblem, shouldQueueNightly, type NightlyConfig } from './nightly.js';
import { firstLine, nightlyReason, onChangeReason, requestInputs, schedulerKind, tryReason, type RequestPlan, type SchedulerKind } from './request-shape.js';

/** What the scheduler service needs from the master. */
export interface SchedulerServiceDeps {
  config: Readonly<Config>;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  /** Queues one build request (the master's force path). */
  submit: SubmitRequest;
}

/** A scheduler as the API and UI show it. */
export interface SchedulerView {
  name: string;
  kind: SchedulerKind;
  builders: string[];
  /** force: the parameters a person fills in. */
  params?: Record<string, ForceParamConfig>;
  /** nightly: the next fire time (null: the expression never fires again). */
  nextRun?: Millis | null;
}

/** A person forcing builds through a force scheduler. */
export interface ForceSchedulerInput {
  /** Some of the scheduler's builders (default: all of them). */
  builders?: string[];
  params: Record<string, unknown>;
  reason?: string;
  submittedBy: string;
  /** Default: the branch head when the checkout runs. */
  revision?: string;
  branch?: string;
}

/** A patch uploaded for try builds (`shepherd try`). */
export interface TryInput {
  /** The try scheduler (default: the only one configured). */
  scheduler?: string;
  /** Some of the scheduler's builders (empty: all of them). */
  builders: string[];
  patch: Buffer;
  /** The revision the patch applies on (empty: the branch head). */
  baseRevision: string;
  /** Default: the source's first branch that is a plain name. */
  branch?: string;
  author: string;
  comment?: string;
}

/** How many changes a nightly lists as its blamelist at most (the newest ones). */
const NIGHTLY_MAX_CHANGES = 100;

interface OnChangeRuntime {
  scheduler: SchedulerConfig;
  trigger: OnChangeConfig;
  filter: ChangeFilter;
  batches: ChangeBatch[];
  /** False until the saved batches are restored; changes are only collected meanwhile. */
  ready: boolean;
  timer: TimerHandle | undefined;
  /** The state last queued for saving (as JSON), to skip writes that change nothing. */
  saved: string;
  /** Store writes and submits of this scheduler, one after the other. */
  chain: Promise<void>;
}

interface NightlyRuntime {
  scheduler: SchedulerConfig;
  trigger: NightlyConfig;
  source: ChangeSourceConfig;
  branch: string;
  nextRun: Millis | null;
  timer: TimerHandle | undefined;
  chain: Promise<void>;
}

/** Runs every configured scheduler; the API calls `force`, `submitTry` and `list`. */
export class SchedulerService {
  readonly #deps: SchedulerServiceDeps;
  readonly #log: Logger;
  readonly #onChange: OnChangeRuntime[] = [];
  readonly #nightly: NightlyRuntime[] = [];
  readonly #work = new Set<Promise<unknown>>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  /** Throws SHEPHERD_E_CONFIG for a nightly whose cron expression or time zone is not understood. */
  constructor(deps: SchedulerServiceDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'schedulers' });
    deps.config.schedulers.forEach((scheduler, i) => {
      if (scheduler.on_change) {
        this.#onChange.push({
          scheduler,
          trigger: scheduler.on_change,
          filter: changeFilter(scheduler.on_change),
          batches: [],
          ready: false,
          timer: undefined,
          saved: JSON.stringify(batchesToState([])),
          chain: Promise.resolve(),
        });
      }
      if (scheduler.nightly) {
        const problem = nightlyProblem(scheduler.nightly);
        if (problem !== undefined) {
          throw new ShepherdError('SHEPHERD_E_CONFIG', `schedulers[${i}].nightly: ${problem}`, {
            details: { problems: [`schedulers[${i}].nightly: ${problem}`] },
          });
        }
        const source = this.#sourceFor(scheduler.nightly.changes);
        this.#nightly.push({
          scheduler,
          trigger: scheduler.nightly,
          source,
          branch: scheduler.nightly.branch ?? defaultBranch(source),
          nextRun: null,
          timer: undefined,
          chain: Promise.resolve(),
        });
      }
    });
  }

  /**
   * Subscribes to new changes, restores the batches saved before a restart
   * (queueing at once those whose quiet period has passed) and arms the
   * nightly timers. Nightly runs missed while the master was down are not
   * caught up: the next run is the next fire time from now.
   */
  async start(): Promise<void> {
    // Subscribe first: changes arriving while the saved batches are read are
    // collected (not saved, not queued) and merged with them below, so no
    // write can overtake the read.
    this.#unsubscribe = this.#deps.events.on('change:new', ({ change }) => this.#changeArrived(change));
    let saved: (Record<string, unknown> | undefined)[];
    try {
      saved = await Promise.all(this.#onChange.map((rt) => this.#deps.store.getSchedulerState(rt.scheduler.name)));
    } catch (error) {
      this.#unsubscribe();
      throw error;
    }
    this.#onChange.forEach((rt, i) => {
      const restored = batchesFromState(saved[i]);
      rt.saved = JSON.stringify(batchesToState(restored));
      rt.batches = mergeBatches(restored, rt.batches);
      rt.ready = true;
      this.#flushOrArm(rt);
    });
    for (const rt of this.#nightly) this.#armNightly(rt, this.#deps.clock.now());
  }

  /** Stops listening, cancels the timers and waits for requests being queued. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const rt of [...this.#onChange, ...this.#nightly]) rt.timer?.cancel();
    await this.settled();
  }

  /** Resolves when no store write or submit is in flight (graceful shutdown; tests after advancing the clock). */
  async settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }

  /** The schedulers, for the API and UI. */
  list(): SchedulerView[] {
    return this.#deps.config.schedulers.map((scheduler) => {
      const kind = schedulerKind(scheduler);
      const view: SchedulerView = { name: scheduler.name, kind, builders: [...scheduler.builders] };
      if (scheduler.force) view.params = scheduler.force.params;
      if (scheduler.nightly) {
        const rt = this.#nightly.find((n) => n.scheduler === scheduler);
        view.nextRun = rt?.timer ? rt.nextRun : nextFireTime(scheduler.nightly, this.#deps.clock.now());
      }
      return view;
    });
  }

  /**
   * Queues one request per chosen builder of a force scheduler. Everything
   * (scheduler, builders, parameters, revision, branch) is checked before
   * anything is queued.
   */
  async force(schedulerName: string, input: ForceSchedulerInput): Promise<BuildRequest[]> {
    const scheduler = this.#deps.config.schedulers.find((s) => s.name === schedulerName);
    if (!scheduler?.force) {
      const names = this.#deps.config.schedulers.filter((s) => s.force).map((s) => s.name);
      throw new ShepherdError(
        'SHEPHERD_E_NOT_FOUND',
        `No force scheduler named "${schedulerName}"${names.length ? `: expected one of ${names.join(', ')}` : ': add one under schedulers with `force:`'}.`,
      );
    }
    const builders = chooseBuilders(scheduler, input.builders);
    const params = validateForceParams(scheduler.force.params, input.params);
    const revision = checkRef('revision', input.revision ?? '');
    const branch = checkRef('branch', input.branch ?? '');
    this.#refuseWhenStopped();
    const plan: RequestPlan = {
      scheduler,
      builders,
      source: undefined,
      branch,
      revision,
      changeIds: [],
      reason: input.reason?.trim() || `forced by ${input.submittedBy}`,
      submittedBy: input.submittedBy,
      params,
    };
    return this.#track(this.#submitAll(plan, { throwOnError: true }));
  }

  /**
   * Stores a try patch (byte for byte) and queues one request per chosen
   * builder to build it on its base revision. The patch is checked first:
   * not empty, within the scheduler's `max_patch`, and a diff.
   */
  async submitTry(input: TryInput): Promise<{ patch: Patch; requests: BuildRequest[] }> {
    const scheduler = this.#tryScheduler(input.scheduler);
    const trigger = scheduler.try!;
    if (input.patch.length === 0) {
      throw new ShepherdError('SHEPHERD_E_PATCH', 'The patch is empty: send the output of `git diff` (or `git format-patch`).');
    }
    if (input.patch.length > trigger.max_patch) {
      throw new ShepherdError(
        'SHEPHERD_E_PATCH',
        `The patch is ${formatSize(input.patch.length)}, more than the ${formatSize(trigger.max_patch)} (max_patch) that try scheduler "${scheduler.name}" accepts: send a smaller patch or raise max_patch.`,
        { details: { limit: trigger.max_patch, size: input.patch.length } },
      );
    }
    if (!looksLikeDiff(input.patch)) {
      throw new ShepherdError(
        'SHEPHERD_E_PATCH',
        'The patch is not a diff (no `diff --git` or `--- `/`+++ ` header): send the output of `git diff` (or `git format-patch`).',
      );
    }
    const builders = chooseBuilders(scheduler, input.builders.length ? input.builders : undefined);
    const source = this.#sourceFor(trigger.changes);
    const baseRevision = checkRef('baseRevision', input.baseRevision);
    const branch = checkRef('branch', input.branch ?? defaultBranch(source));
    this.#refuseWhenStopped();
    const comment = input.comment ?? '';
    return this.#track(
      (async () => {
        const patch = await this.#deps.store.addPatch({
          source: source.name,
          baseRevision,
          branch,
          author: input.author,
          comment,
          createdAt: this.#deps.clock.now(),
          data: input.patch,
        });
        const requests = await this.#submitAll(
          {
            scheduler,
            builders,
            source,
            branch,
            revision: baseRevision,
            changeIds: [],
            reason: tryReason(comment, input.patch, input.author),
            submittedBy: input.author,
            patchId: patch.id,
          },
          { throwOnError: true },
        );
        return { patch, requests };
      })(),
    );
  }

  // ---- on_change

  #changeArrived(change: Change): void {
    if (this.#stopped) return;
    const now = this.#deps.clock.now();
    for (const rt of this.#onChange) {
      if (!rt.filter.follows(change)) continue;
      rt.batches = addChange(rt.batches, change, rt.filter.important(change), now, rt.trigger.quiet).batches;
      if (rt.ready) this.#flushOrArm(rt);
    }
  }

  /** Queues the due batches, saves the rest and arms one timer for the earliest deadline. */
  #flushOrArm(rt: OnChangeRuntime): void {
    rt.timer?.cancel();
    rt.timer = undefined;
    if (this.#stopped) return;
    const now = this.#deps.clock.now();
    const { due, pending } = takeDue(rt.batches, now, rt.trigger.quiet);
    rt.batches = pending;
    const deadline = nextDeadline(pending, rt.trigger.quiet);
    if (deadline !== null) rt.timer = this.#deps.clock.setTimeout(() => this.#flushOrArm(rt), deadline - now);
    const state = batchesToState(pending);
    const json = JSON.stringify(state);
    const changed = json !== rt.saved;
    if (due.length === 0 && !changed) return;
    rt.saved = json;
    this.#serial(rt, async () => {
      // Submit first, save after: a crash in between builds a batch twice
      // rather than never.
      for (const batch of due) await this.#queueBatch(rt, batch);
      if (changed) await this.#deps.store.setSchedulerState(rt.scheduler.name, state);
    });
  }

  async #queueBatch(rt: OnChangeRuntime, batch: ChangeBatch): Promise<void> {
    const changes = (await this.#deps.store.getChanges(batch.changeIds)).sort((a, b) => a.id - b.id);
    const newest = changes[changes.length - 1];
    if (!newest) {
      this.#log.warn({ scheduler: rt.scheduler.name, changeIds: batch.changeIds }, 'changes of a due batch are no longer stored; nothing queued');
      return;
    }
    await this.#submitAll(
      {
        scheduler: rt.scheduler,
        builders: rt.scheduler.builders,
        source: { name: batch.source, git: newest.repository },
        branch: batch.branch,
        revision: newest.revision,
        changeIds: changes.map((c) => c.id),
        reason: onChangeReason(changes, batch.branch),
        submittedBy: newest.author,
      },
      { throwOnError: false },
    );
  }

  // ---- nightly

  #armNightly(rt: NightlyRuntime, after: Millis): void {
    rt.timer?.cancel();
    rt.timer = undefined;
    if (this.#stopped) return;
    rt.nextRun = nextFireTime(rt.trigger, after);
    if (rt.nextRun === null) return;
    const at = rt.nextRun;
    rt.timer = this.#deps.clock.setTimeout(() => {
      // Re-arm from the fire time itself, so a timer that fires a little
      // late neither skips the next night nor fires twice for this one.
      this.#armNightly(rt, Math.max(at, this.#deps.clock.now()));
      this.#serial(rt, () => this.#runNightly(rt, at));
    }, at - this.#deps.clock.now());
  }

  async #runNightly(rt: NightlyRuntime, at: Millis): Promise<void> {
    const { store } = this.#deps;
    const name = rt.scheduler.name;
    const state = nightlyFromState(await store.getSchedulerState(name));
    const latest = await store.latestChange(rt.source.name, rt.branch);
    if (!shouldQueueNightly(rt.trigger.only_if_changed, state, latest)) {
      this.#log.info({ scheduler: name, branch: rt.branch }, 'nightly skipped: no change since the last nightly build');
      return;
    }
    const since = state.lastChangeId;
    const recent = latest && (since === null || latest.id > since)
      ? await store.listChanges({ source: rt.source.name, branch: rt.branch, limit: NIGHTLY_MAX_CHANGES })
      : [];
    const changeIds = recent.filter((c) => since === null || c.id > since).map((c) => c.id).sort((a, b) => a - b);
    // The recorded head is the branch as last seen (it may be newer than the
    // last change, e.g. a head recorded without building on the first poll).
    const heads = await store.getHeads(rt.source.name);
    const revision = heads[rt.branch] ?? latest?.revision ?? '';
    await this.#submitAll(
      {
        scheduler: rt.scheduler,
        builders: rt.scheduler.builders,
        source: rt.source,
        branch: rt.branch,
        revision,
        changeIds,
        reason: nightlyReason(rt.trigger.cron),
        submittedBy: null,
      },
      { throwOnError: false },
    );
    await store.setSchedulerState(name, { lastChangeId: latest?.id ?? since, lastRunAt: at });
  }

  // ---- shared

  /**
   * Submits one request per builder. For a person (force, try) the first
   * failure is thrown; for a timer it is logged and the other builders still
   * get their requests.
   */
  async #submitAll(plan: RequestPlan, { throwOnError }: { throwOnError: boolean }): Promise<BuildRequest[]> {
    const requests: BuildRequest[] = [];
    for (const input of requestInputs(plan)) {
      try {
        requests.push(await this.#deps.submit(input));
      } catch (error) {
        if (throwOnError) throw error;
        this.#log.error({ err: error, scheduler: plan.scheduler.name, builder: input.builder }, 'could not queue a build request');
      }
    }
    if (requests.length > 0) {
      this.#log.info({ scheduler: plan.scheduler.name, requests: requests.map((r) => r.id), reason: plan.reason }, 'queued build requests');
    }
    return requests;
  }

  /** Runs a scheduler's store work after its previous work; errors are logged, never thrown into a timer. */
  #serial(rt: { chain: Promise<void>; scheduler: SchedulerConfig }, work: () => Promise<void>): void {
    rt.chain = this.#track(
      rt.chain.then(work).catch((error: unknown) => {
        this.#log.error({ err: error, scheduler: rt.scheduler.name }, 'scheduler work failed');
      }),
    );
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#work.add(promise);
    const done = () => this.#work.delete(promise);
    promise.then(done, done);
    return promise;
  }

  #refuseWhenStopped(): void {
    if (this.#stopped) throw new ShepherdError('SHEPHERD_E_CONFLICT', 'The master is shutting down: no new builds are queued. Try again once it is back.');
  }

  #tryScheduler(name: string | undefined): SchedulerConfig {
    const trySchedulers = this.#deps.config.schedulers.filter((s) => s.try);
    if (name !== undefined) {
      const found = trySchedulers.find((s) => s.name === name);
      if (found) return found;
      throw new ShepherdError(
        'SHEPHERD_E_NOT_FOUND',
        `No try scheduler named "${name}"${trySchedulers.length ? `: expected one of ${trySchedulers.map((s) => s.name).join(', ')}` : ''}.`,
      );
    }
    if (trySchedulers.length === 1) return trySchedulers[0]!;
    if (trySchedulers.length === 0) {
      throw new ShepherdError('SHEPHERD_E_NOT_FOUND', 'No try scheduler is configured: add one under schedulers with `try:`.');
    }
    throw new ShepherdError(
      'SHEPHERD_E_VALIDATION',
      `Several try schedulers are configured: name one of ${trySchedulers.map((s) => s.name).join(', ')}.`,
      { details: { field: 'scheduler' } },
    );
  }

  /** A named change source, or the first one (the config guarantees both exist). */
  #sourceFor(name: string | undefined): ChangeSourceConfig {
    const source = name === undefined ? this.#deps.config.changes[0] : this.#deps.config.changes.find((c) => c.name === name);
    if (!source) throw new ShepherdError('SHEPHERD_E_CONFIG', `No change source${name ? ` named "${name}"` : ''}: add one under changes.`);
    return source;
  }
}

/** The branch a build of a source takes when none is named: its first plain (non-glob) branch, as checkouts do. */
function defaultBranch(source: ChangeSourceConfig): string {
  return source.branches.find((b) => !b.includes('*')) ?? 'main';
}

function chooseBuilders(scheduler: SchedulerConfig, wanted: readonly string[] | undefined): string[] {
  if (wanted === undefined) return [...scheduler.builders];
  if (wanted.length === 0) {
    throw new ShepherdError('SHEPHERD_E_VALIDATION', `Name at least one builder of scheduler "${scheduler.name}": ${scheduler.builders.join(', ')}.`, {
      details: { field: 'builders' },
    });
  }
  const unknown = wanted.filter((b) => !scheduler.builders.includes(b));
  if (unknown.length > 0) {
    throw new ShepherdError(
      'SHEPHERD_E_VALIDATION',
      `Scheduler "${scheduler.name}" does not queue ${unknown.map((b) => `"${b}"`).join(', ')}: expected some of ${scheduler.builders.join(', ')}.`,
      { details: { field: 'builders' } },
    );
  }
  return [...new Set(wanted)];
}

/**
 * Revisions and branch names end up on a git command line on the worker:
 * refuse anything git would read as an option or that no ref can be.
 */
function checkRef(field: string, value: string): string {
  if (value === '') return value;
  if (value.startsWith('-') || /[\s\x00-\x1f\x7f~^:?*[\\]/.test(value) || value.includes('..') || value.length > 250) {
    throw new ShepherdError('SHEPHERD_E_VALIDATION', `${field} ${JSON.stringify(firstLine(value))} is not a git revision or branch name.`, {
      details: { field },
    });
  }
  return value;
}

/** A unified diff has a `diff --git` line, or a `--- ` line followed by a `+++ ` line. */
function looksLikeDiff(patch: Buffer): boolean {
  const text = patch.toString('latin1');
  return /^diff --git /m.test(text) || /^--- .*\r?\n\+\+\+ /m.test(text);
}

