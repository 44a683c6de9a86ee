/**
 * A build: its header (builder, number, result, worker, times, revision),
 * its steps with their commands, its tests (failures first) and artifacts,
 * the selected step's log (`/builds/ID/steps/NAME#L120`), its debug
 * sessions, the blamelist and the properties; rebuild, cancel and a debug
 * session on its worker with an API token.
 */
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { apiGet, type BuildDetailJson, type RequestJson, type StepJson } from '../api/client.js';
import { useBuild } from '../api/queries.js';
import { ResultBadge } from '../components/result.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago, Elapsed } from '../components/time.js';
import { DebugLauncher } from '../debug/debug-launcher.js';
import { DebugSessions } from '../debug/debug-sessions.js';
import { LogViewer } from '../log/log-viewer.js';
import { BuildActions } from './build-actions.js';
import { BuildArtifacts } from './build-artifacts.js';
import { BuildTests } from './build-tests.js';
import { commandText, firstLine, pickStep, shortRevision } from './build-view.js';
import './build.css';

/** The request the build runs (for its reason); refreshed with the `requests` family. */
function useRequest(id: number) {
  return useQuery({ queryKey: ['requests', id], queryFn: ({ signal }) => apiGet<RequestJson>(`/requests/${id}`, signal), staleTime: Infinity });
}

function stepPath(build: BuildDetailJson, step: StepJson): string {
  return `/builds/${build.id}/steps/${encodeURIComponent(step.name)}`;
}

function Steps({ build, selected }: { build: BuildDetailJson; selected: StepJson | undefined }) {
  return (
    <div className="table-wrap">
      <table className="steps">
        <thead>
          <tr>
            <th scope="col">result</th>
            <th scope="col">step</th>
            <th scope="col">duration</th>
            <th scope="col">command</th>
            <th scope="col" className="hide-narrow">summary</th>
          </tr>
        </thead>
        <tbody>
          {build.steps.map((step) => {
            const command = commandText(step.command);
            const isSelected = step.id === selected?.id;
            return (
              <tr key={step.id} className={isSelected ? 'selected' : undefined}>
                <td>
                  <ResultBadge result={step.result} state={step.state} />
                </td>
                <td>
                  <Link className="step-name" to={stepPath(build, step)} aria-current={isSelected ? 'page' : undefined}>
                    {step.name}
                  </Link>
                </td>
                <td>
                  <Elapsed start={step.started_at} end={step.finished_at} />
                </td>
                <td className="step-command">
                  {command && (
                    <code title={`${command}${step.workdir ? `\n(in ${step.workdir})` : ''}`}>{command}</code>
                  )}
                </td>
                <td className="hide-narrow">
                  {step.summary ?? (step.exit_code !== null && step.exit_code !== 0 ? `exit ${step.exit_code}` : step.signal ? `killed by ${step.signal}` : '')}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Header({ build }: { build: BuildDetailJson }) {
  const request = useRequest(build.request_id);
  return (
    <>
      <div className="build-head">
        <h1>
          <Link to={`/builders/${encodeURIComponent(build.builder)}`}>{build.builder}</Link> #{build.number}
        </h1>
        <ResultBadge result={build.result} state={build.state} />
      </div>
      <dl className="kv build-facts">
        <dt>worker</dt>
        <dd>
          <Link to={`/workers/${encodeURIComponent(build.worker)}`}>{build.worker}</Link>
        </dd>
        <dt>started</dt>
        <dd>
          <Ago at={build.started_at} />
        </dd>
        <dt>duration</dt>
        <dd>
          <Elapsed start={build.started_at} end={build.finished_at} />
          {build.state === 'running' && <span className="muted"> so far</span>}
        </dd>
        <dt>revision</dt>
        <dd>{build.revision ? <code title={build.revision}>{shortRevision(build.revision)}</code> : <span className="muted">none</span>}</dd>
        {request.data && (
          <>
            <dt>reason</dt>
            <dd>
              {request.data.reason}
              {request.data.submitted_by && <span className="muted"> (by {request.data.submitted_by})</span>}
            </dd>
          </>
        )}
        {build.summary && (
          <>
            <dt>summary</dt>
            <dd>{build.summary}</dd>
          </>
        )}
      </dl>
    </>
  );
}

function Blamelist({ build }: { build: BuildDetailJson }) {
  return (
    <section aria-labelledby="blamelist-heading">
      <h2 id="blamelist-heading">Blamelist</h2>
      {build.blamelist.length === 0 ? (
        <p className="muted">No new changes: this build was not the first to build any change.</p>
      ) : (
        <ul className="blamelist">
          {build.blamelist.map((change) => (
            <li key={change.id}>
              <code title={change.revision}>{shortRevision(change.revision)}</code> {firstLine(change.message)} <span className="muted">— {change.author}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Properties({ build }: { build: BuildDetailJson }) {
  const entries = Object.entries(build.properties).sort(([a], [b]) => a.localeCompare(b));
  return (
    <details className="build-props">
      <summary>Properties ({entries.length})</summary>
      <dl className="kv">
        {entries.map(([key, value]) => (
          <div key={key} style={{ display: 'contents' }}>
            <dt>{key}</dt>
            <dd>
              <code>{value}</code>
            </dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

/** `/builds/:id` and `/builds/:id/steps/:step`. */
export function BuildPage() {
  const params = useParams();
  const id = Number(params.id);
  const valid = Number.isInteger(id) && id > 0;
  const query = useBuild(valid ? id : 0);
  if (!valid) return <ErrorMessage error={new Error(`"${params.id}" is not a build id`)} />;
  if (query.isPending) return <Loading what={`build ${id}`} />;
  if (query.isError) return <ErrorMessage error={query.error} />;
  const build = query.data;
  const step = pickStep(build.steps, params.step);
  return (
    <>
      <section aria-label="Build">
        <Header build={build} />
        <BuildActions build={build} />
        <DebugLauncher build={build} />
      </section>
      <section aria-labelledby="steps-heading">
        <h2 id="steps-heading">Steps</h2>
        {build.steps.length === 0 ? <p className="muted">No steps yet.</p> : <Steps build={build} selected={step} />}
      </section>
      <BuildTests build={build} />
      <BuildArtifacts build={build} />
      <section aria-labelledby="log-heading">
        {params.step !== undefined && !step ? (
          <ErrorMessage error={new Error(`build ${build.id} has no step named "${params.step}"`)} />
        ) : step ? (
          <>
            <div className="log-heading">
              <h2 id="log-heading">Log of {step.name}</h2>
              <ResultBadge result={step.result} state={step.state} />
              {step.workdir && step.workdir !== '.' && <span className="muted">in <code>{step.workdir}</code></span>}
            </div>
            <LogViewer key={step.id} step={step} />
          </>
        ) : null}
      </section>
      <DebugSessions build={build} />
      <Blamelist build={build} />
      <Properties build={build} />
    </>
  );
}
