/**
 * The routes. URLs are stable and shareable, and the back button works:
 * every view is a path, filters live in the query string, a log line in the
 * hash (`/builds/12/steps/test#L40`). Later features add their pages here.
 */
import { Route, Routes } from 'react-router';
import { Layout } from './components/layout.js';
import { ApplicationsPage } from './pages/applications.js';
import { BuildPage } from './pages/build.js';
import { BuilderPage } from './pages/builder.js';
import { BuildersPage } from './pages/builders.js';
import { ConsolePage } from './pages/console.js';
import { CostPage } from './pages/cost.js';
import { CoveragePage } from './pages/coverage.js';
import { DebugApprovePage } from './pages/debug-approve.js';
import { HealthPage } from './pages/health.js';
import { GridPage } from './pages/grid.js';
import { HomePage } from './pages/home.js';
import { JoinPage } from './pages/join.js';
import { NotFoundPage } from './pages/not-found.js';
import { TestPage } from './pages/test.js';
import { WorkerPage } from './pages/worker.js';
import { WorkersPage } from './pages/workers.js';

/** The app's pages inside the common frame. */
export function App() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<HomePage />} />
        <Route path="/builders" element={<BuildersPage />} />
        <Route path="/builders/:name" element={<BuilderPage />} />
        <Route path="/grid" element={<GridPage />} />
        <Route path="/console" element={<ConsolePage />} />
        <Route path="/builds/:id" element={<BuildPage />} />
        <Route path="/builds/:id/steps/:step" element={<BuildPage />} />
        <Route path="/tests" element={<TestPage />} />
        <Route path="/tests/:name" element={<TestPage />} />
        <Route path="/workers" element={<WorkersPage />} />
        <Route path="/workers/:name" element={<WorkerPage />} />
        <Route path="/coverage" element={<CoveragePage />} />
        <Route path="/farm-health" element={<HealthPage />} />
        <Route path="/cost" element={<CostPage />} />
        <Route path="/join" element={<JoinPage />} />
        <Route path="/applications" element={<ApplicationsPage />} />
        <Route path="/debug/:session/approve" element={<DebugApprovePage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Layout>
  );
}
