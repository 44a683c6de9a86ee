/**
 * Per-test results: a build's tests ("3 failed of 4,126", failures first),
 * a test's history across builders, workers and revisions with what
 * separates the workers where it fails from those where it passes, and the
 * quarantine list (the config's entries, plus those added here with the
 * API token).
 */
import { ShepherdError } from '../../errors.js';
import { countText } from '../../tests/step-result.js';
import { separateWorkers } from '../../tests/worker-separation.js';
import type { StoredTestResult } from '../../store/store.js';
import { isFailure } from '../../tests/types.js';
import type { MasterControl } from '../control.js';
import { findBuild } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import {
  BuildTestsJson,
  BuildTestsQuery,
  IdParams,
  OkJson,
  QuarantineBody,
  QuarantineJson,
  QuarantineListJson,
  TestHistoryJson,
  TestHistoryQuery,
  type TestResultJson,
} from '../schemas.js';

/** `GET /builds/:id/tests`, `GET /tests/history`, `GET|POST /quarantine`, `DELETE /quarantine/:id`. */
export function registerTestRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id/tests',
    operationId: 'listBuildTests',
    summary: "A build's tests, failures first, with counts",
    description: 'Paged by `offset`/`limit`; `failures=1` lists only failed and errored tests.',
    tag: 'tests',
    params: IdParams,
    query: BuildTestsQuery,
    response: BuildTestsJson,
    async handler({ params, query }) {
      await findBuild(control, params.id);
      const page = await control.store.listBuildTests(params.id, { offset: query.offset, limit: query.limit + 1, failuresOnly: query.failures ?? false });
      const tests = page.tests.slice(0, query.limit);
      const failed = page.counts.failed + page.counts.error;
      return {
        build_id: params.id,
        summary: countText(failed, page.total),
        counts: page.counts,
        total: page.total,
        flaky: page.flaky,
        quarantined: page.quarantined,
        tests: tests.map(testResultJson),
        next_offset: page.tests.length > query.limit ? query.offset + query.limit : null,
      };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/tests/history',
    operationId: 'testHistory',
    summary: "A test's runs, newest first, and which dimensions separate where it fails",
    description:
      'Each run names its build, builder, worker, platform and revision. `separation` compares the workers where the test failed with those where it passed at the newest revision that had both (dimensions as the workers have them now).',
    tag: 'tests',
    query: TestHistoryQuery,
    response: TestHistoryJson,
    async handler({ query }) {
      const runs = await control.store.testHistory(query.name, { builder: query.builder, beforeId: query.before, limit: query.limit + 1 });
      const page = runs.slice(0, query.limit);
      return {
        name: query.name,
        runs: page.map(testResultJson),
        next: runs.length > query.limit ? page[page.length - 1]!.id : null,
        separation: await separationOf(control, query.name, page),
      };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/quarantine',
    operationId: 'listQuarantine',
    summary: 'Quarantined tests: the config\'s, then those added through the API',
    tag: 'tests',
    response: QuarantineListJson,
    async handler() {
      const config = control.config;
      const fromConfig = [
        ...config.master.quarantine.map((e) => ({ test: e.test, builders: e.builders ?? null, reason: e.reason })),
        ...config.builders.flatMap((b) => (b.quarantine ?? []).map((e) => ({ test: e.test, builders: [b.name], reason: e.reason }))),
      ].map((e) => ({ ...e, id: null, source: 'config' as const, added_by: null, added_at: null }));
      const stored = (await control.store.listQuarantine()).map((e) => ({
        id: e.id,
        source: 'api' as const,
        test: e.test,
        builders: e.builders,
        reason: e.reason,
        added_by: e.addedBy,
        added_at: e.addedAt,
      }));
      return { entries: [...fromConfig, ...stored] };
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/quarantine',
    operationId: 'addQuarantine',
    summary: 'Quarantine a test (or a glob of tests), optionally on some builders only',
    description: 'Its failures make a step WARNINGS, not FAILURE, from the next step that finishes.',
    tag: 'tests',
    write: true,
    body: QuarantineBody,
    status: 201,
    response: QuarantineJson,
    async handler({ body }) {
      const known = new Set(control.config.builders.map((b) => b.name));
      body.builders?.forEach((name, i) => {
        if (!known.has(name)) {
          throw new ShepherdError('SHEPHERD_E_VALIDATION', `builders[${i}]: no builder named "${name}"`, { details: { field: `builders[${i}]` } });
        }
      });
      const entry = await control.store.addQuarantine({
        test: body.test,
        builders: body.builders ?? null,
        reason: body.reason,
        addedBy: body.added_by ?? 'api',
        addedAt: Date.now(),
      });
      return { id: entry.id, source: 'api' as const, test: entry.test, builders: entry.builders, reason: entry.reason, added_by: entry.addedBy, added_at: entry.addedAt };
    },
  });

  api.route({
    method: 'DELETE',
    url: '/api/v1/quarantine/:id',
    operationId: 'removeQuarantine',
    summary: 'Remove a quarantine entry added through the API',
    description: "Entries from the config file are removed by editing it. 404 when there is no API entry with that id.",
    tag: 'tests',
    write: true,
    params: IdParams,
    response: OkJson,
    async handler({ params }) {
      if (!(await control.store.removeQuarantine(params.id))) {
        throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no quarantine entry with id ${params.id}; GET /api/v1/quarantine lists them (config entries have none)`, {
          details: { id: params.id },
        });
      }
      return { ok: true as const };
    },
  });
}

/** A stored test result as JSON. */
export function testResultJson(r: StoredTestResult): TestResultJson {
  return {
    id: r.id,
    build_id: r.buildId,
    step_id: r.stepId,
    builder: r.builder,
    worker: r.worker,
    platform: r.platform,
    revision: r.revision,
    name: r.name,
    suite: r.suite,
    result: r.result,
    duration_ms: r.durationMs,
    message: r.message,
    flaky: r.flaky,
    rerun: r.rerun,
    quarantined: r.quarantined,
    at: r.at,
  };
}

/**
 * The separation at the newest revision of these runs where the test both
 * failed and passed: every outcome at that revision is read, and a worker
 * that did both (flaky there) counts in neither group.
 */
async function separationOf(control: MasterControl, name: string, runs: readonly StoredTestResult[]): Promise<TestHistoryJson['separation']> {
  const revisions = [...new Set(runs.flatMap((r) => (r.revision === null ? [] : [r.revision])))];
  const revision = revisions.find((rev) => {
    const at = runs.filter((r) => r.revision === rev);
    return at.some((r) => isFailure(r.result)) && at.some((r) => r.result === 'passed');
  });
  if (revision === undefined) return null;
  const outcomes = await control.store.testOutcomesAtRevision(revision, { names: [name] });
  const dimensions = new Map((await control.workers()).map((w) => [w.name, w.dimensions]));
  const { failingWorkers, passingWorkers, ...separation } = separateWorkers(outcomes, dimensions);
  return { revision, failing_workers: failingWorkers, passing_workers: passingWorkers, ...separation };
}
