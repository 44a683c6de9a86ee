/**
 * The build page's Artifacts section, shown when a step sent files back (or
 * the limits left some out): each file's name (a download link when it was
 * stored), the step that sent it, its size, and why a skipped one was not
 * stored, so a missing core dump is explained where it is looked for.
 */
import { Link } from 'react-router';
import type { ArtifactJson, BuildDetailJson } from '../api/client.js';
import { useBuildArtifacts } from '../api/queries.js';
import { ErrorMessage } from '../components/states.js';
import { formatBytes } from './tests-view.js';
import './tests.css';

function ArtifactRow({ build, file }: { build: BuildDetailJson; file: ArtifactJson }) {
  return (
    <tr className={file.skipped !== null ? 'artifact-skipped' : undefined}>
      <td className="artifact-name">
        {file.url !== null ? (
          <a href={file.url} download>
            {file.name}
          </a>
        ) : (
          <code>{file.name}</code>
        )}
        {file.kind === 'test_results' && <span className="muted"> (test results)</span>}
      </td>
      <td>
        {file.step.name ? <Link to={`/builds/${build.id}/steps/${encodeURIComponent(file.step.name)}`}>{file.step.name}</Link> : <span className="muted">step {file.step.index}</span>}
      </td>
      <td className="num" title={`${file.size.toLocaleString('en-US')} bytes`}>
        {formatBytes(file.size)}
      </td>
      <td>{file.skipped === null ? 'stored' : <span className="warn-text">skipped: {file.skipped}</span>}</td>
    </tr>
  );
}

/** The Artifacts section, or nothing when the build has no files. */
export function BuildArtifacts({ build }: { build: BuildDetailJson }) {
  const query = useBuildArtifacts(build.id);
  if (query.isPending) return null;
  if (query.isError) {
    return (
      <section aria-labelledby="artifacts-heading">
        <h2 id="artifacts-heading">Artifacts</h2>
        <ErrorMessage error={query.error} />
      </section>
    );
  }
  const files = query.data;
  if (files.length === 0) return null;
  const skipped = files.filter((f) => f.skipped !== null).length;
  return (
    <section aria-labelledby="artifacts-heading">
      <h2 id="artifacts-heading">Artifacts</h2>
      <p className="muted">
        {files.length - skipped} stored{skipped > 0 && `, ${skipped} skipped`}
      </p>
      <div className="table-wrap">
        <table className="artifacts">
          <thead>
            <tr>
              <th scope="col">file</th>
              <th scope="col">step</th>
              <th scope="col" className="num">size</th>
              <th scope="col">stored</th>
            </tr>
          </thead>
          <tbody>
            {files.map((file) => (
              <ArtifactRow key={file.id} build={build} file={file} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
