/**
 * A test's page (`/tests/NAME`, the full name URL-encoded; `/tests?name=`
 * leads there): what separates the workers where it fails from those where
 * it passes ("fails only where arch=s390x"), then its runs across builders,
 * workers, platforms and revisions, newest first, older ones a page at a time.
 */
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useParams, useSearchParams } from 'react-router';
import type { TestHistoryJson, TestResultJson } from '../api/client.js';
import { useTestHistory } from '../api/queries.js';
import { TestBadges, TestResultBadge } from '../components/test-result.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { shortRevision } from './build-view.js';
import { TestMessage } from './build-tests.js';
import { isFailed, separationText, testPath } from './tests-view.js';
import './tests.css';

function WorkerLinks({ names }: { names: readonly string[] }) {
  if (names.length === 0) return <span className="muted">none</span>;
  return (
    <>
      {names.map((name, i) => (
        <span key={name}>
          {i > 0 && ', '}
          <Link to={`/workers/${encodeURIComponent(name)}`}>{name}</Link>
        </span>
      ))}
    </>
  );
}

/** The separation, prominently: the sentence, the revision, and the workers on each side. */
function Separation({ separation }: { separation: NonNullable<TestHistoryJson['separation']> }) {
  return (
    <section className="separation" aria-labelledby="separation-heading">
      <h2 id="separation-heading" className="sr-only">
        Where it fails
      </h2>
      <p className="separation-sentence">{separationText(separation)}</p>
      <p className="muted">
        at revision <code title={separation.revision}>{shortRevision(separation.revision)}</code>: failed on <WorkerLinks names={separation.failing_workers} />;
        passed on <WorkerLinks names={separation.passing_workers} />
      </p>
      {separation.keys.length > 0 && separation.values.length === 0 && (
        <ul className="separation-keys">
          {separation.keys.map((k) => (
            <li key={k.key}>
              <code>{k.key}</code>: fails on {k.failing.join(', ')}; passes on {k.passing.join(', ')}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RunRow({ run }: { run: TestResultJson }) {
  return (
    <tr className={isFailed(run.result) ? 'test-failed' : undefined}>
      <td>
        <Link to={`/builds/${run.build_id}`}>build {run.build_id}</Link>
        <div className="muted">
          <Ago at={run.at} />
        </div>
      </td>
      <td>
        <Link to={`/builders/${encodeURIComponent(run.builder)}`}>{run.builder}</Link>
      </td>
      <td>
        <Link to={`/workers/${encodeURIComponent(run.worker)}`}>{run.worker}</Link>
      </td>
      <td className="hide-narrow">{run.platform ?? <span className="muted">unknown</span>}</td>
      <td>{run.revision ? <code title={run.revision}>{shortRevision(run.revision)}</code> : <span className="muted">none</span>}</td>
      <td>
        <TestResultBadge result={run.result} /> <TestBadges result={run} without="flaky" />
        {isFailed(run.result) && <TestMessage message={run.message} />}
      </td>
      <td>{run.flaky ? <span className="test-badge test-badge-flaky">flaky</span> : ''}</td>
    </tr>
  );
}

function History({ name }: { name: string }) {
  const query = useTestHistory(name);
  if (query.isPending) return <Loading what={`the history of ${name}`} />;
  if (query.isError) return <ErrorMessage error={query.error} />;
  const runs = query.data.pages.flatMap((page) => page.runs);
  const separation = query.data.pages[0]?.separation ?? null;
  if (runs.length === 0) return <p className="muted">No build has reported a test of this name.</p>;
  const failed = runs.filter((r) => isFailed(r.result)).length;
  const flaky = runs.filter((r) => r.flaky).length;
  return (
    <>
      {separation && <Separation separation={separation} />}
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        <p className="muted">
          {runs.length} run{runs.length === 1 ? '' : 's'} shown, newest first: {failed} failed{flaky > 0 && `, ${flaky} flaky`}
        </p>
        <div className="table-wrap">
          <table className="test-history">
            <thead>
              <tr>
                <th scope="col">build</th>
                <th scope="col">builder</th>
                <th scope="col">worker</th>
                <th scope="col" className="hide-narrow">platform</th>
                <th scope="col">revision</th>
                <th scope="col">result</th>
                <th scope="col">flaky</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <RunRow key={run.id} run={run} />
              ))}
            </tbody>
          </table>
        </div>
        {query.hasNextPage && (
          <p>
            <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
              {query.isFetchingNextPage ? 'Loading…' : 'Older runs'}
            </button>
          </p>
        )}
      </section>
    </>
  );
}

/** `/tests` without a name: a box to type one. */
function FindTest() {
  const navigate = useNavigate();
  const [draft, setDraft] = useState('');
  function go(event: FormEvent) {
    event.preventDefault();
    if (draft.trim()) void navigate(testPath(draft.trim()));
  }
  return (
    <section>
      <h1>Test history</h1>
      <form className="actions" onSubmit={go} aria-label="Find a test">
        <label>
          Test name <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="test.test_os.FileTests.test_fdopen" size={40} />
        </label>
        <button type="submit">Show its history</button>
      </form>
    </section>
  );
}

/** `/tests/:name` and `/tests?name=`. */
export function TestPage() {
  const params = useParams();
  const [search] = useSearchParams();
  const name = params.name ?? '';
  if (!name) {
    const fromQuery = search.get('name');
    return fromQuery ? <Navigate to={testPath(fromQuery)} replace /> : <FindTest />;
  }
  return (
    <>
      <section aria-label="Test">
        <p className="muted page-kicker">Test</p>
        <h1 className="test-title">{name}</h1>
      </section>
      <History name={name} />
    </>
  );
}
