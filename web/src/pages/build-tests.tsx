/**
 * The build page's Tests section, shown when the build stored test results:
 * the API's count ("3 failed of 4,126"), failures first with their message
 * (the traceback collapsed), flaky / re-run / quarantined marks, a note when
 * quarantined failures were ignored, and each test's name linking to its
 * history. Pages follow the API's `next_offset`.
 */
import { Link } from 'react-router';
import type { BuildDetailJson, TestResultJson } from '../api/client.js';
import { useBuildTests } from '../api/queries.js';
import { TestBadges, TestResultBadge } from '../components/test-result.js';
import { ErrorMessage } from '../components/states.js';
import { isFailed, quarantineNote, splitMessage, testDuration, testPath } from './tests-view.js';
import './tests.css';

/** A failure's message: its first line, and the rest behind a disclosure. */
export function TestMessage({ message }: { message: string | null }) {
  const { head, rest } = splitMessage(message);
  if (!head && !rest) return null;
  return (
    <div className="test-message">
      {head && <code className="test-message-head">{head}</code>}
      {rest && (
        <details>
          <summary>traceback</summary>
          <pre>{rest}</pre>
        </details>
      )}
    </div>
  );
}

function TestRow({ build, test }: { build: BuildDetailJson; test: TestResultJson }) {
  const step = build.steps.find((s) => s.id === test.step_id);
  return (
    <tr className={isFailed(test.result) ? 'test-failed' : undefined}>
      <td>
        <TestResultBadge result={test.result} />
      </td>
      <td className="test-name">
        <Link to={testPath(test.name)}>{test.name}</Link> <TestBadges result={test} />
        {isFailed(test.result) || test.result === 'skipped' ? <TestMessage message={test.message} /> : null}
      </td>
      <td className="hide-narrow">{step ? step.name : ''}</td>
      <td className="hide-narrow num">{testDuration(test.duration_ms)}</td>
    </tr>
  );
}

/** The Tests section, or nothing when the build has no test results. */
export function BuildTests({ build }: { build: BuildDetailJson }) {
  const query = useBuildTests(build.id);
  if (query.isPending) return null;
  if (query.isError) {
    return (
      <section aria-labelledby="tests-heading">
        <h2 id="tests-heading">Tests</h2>
        <ErrorMessage error={query.error} />
      </section>
    );
  }
  const pages = query.data.pages;
  const latest = pages[pages.length - 1]!;
  const tests = pages.flatMap((page) => page.tests);
  if (latest.total === 0 && tests.length === 0) return null;
  const quarantinedSteps = [...new Set(tests.filter((t) => t.quarantined && isFailed(t.result)).map((t) => t.step_id))];
  const note = quarantineNote(
    latest.quarantined,
    quarantinedSteps.map((id) => build.steps.find((s) => s.id === id)?.result ?? null),
  );
  const { counts } = latest;
  return (
    <section aria-labelledby="tests-heading">
      <h2 id="tests-heading">Tests</h2>
      <p className="tests-summary">
        <strong className={counts.failed + counts.error > 0 ? 'error' : undefined}>{latest.summary}</strong>
        <span className="muted">
          {' '}
          · {counts.passed.toLocaleString('en-US')} passed
          {counts.skipped > 0 && ` · ${counts.skipped.toLocaleString('en-US')} skipped`}
          {counts.error > 0 && ` · ${counts.error.toLocaleString('en-US')} errors`}
          {latest.flaky > 0 && ` · ${latest.flaky.toLocaleString('en-US')} flaky`}
        </span>
      </p>
      {note && (
        <p className="tests-note" role="note">
          {note}
        </p>
      )}
      <div className="table-wrap">
        <table className="tests">
          <thead>
            <tr>
              <th scope="col">result</th>
              <th scope="col">test</th>
              <th scope="col" className="hide-narrow">step</th>
              <th scope="col" className="hide-narrow num">duration</th>
            </tr>
          </thead>
          <tbody>
            {tests.map((test) => (
              <TestRow key={test.id} build={build} test={test} />
            ))}
          </tbody>
        </table>
      </div>
      {query.hasNextPage && (
        <p>
          <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
            {query.isFetchingNextPage ? 'Loading…' : `More tests (${tests.length.toLocaleString('en-US')} shown)`}
          </button>
        </p>
      )}
    </section>
  );
}
