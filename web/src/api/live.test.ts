import { describe, expect, it } from 'vitest';
import { staleKeys } from './live.js';
import { queryKeys } from './queries.js';

describe('staleKeys', () => {
  it('a finished build refreshes the lists, the grid, the overview and that build', () => {
    const keys = staleKeys('build:finished', { build_id: 7, builder: 'b' });
    expect(keys).toEqual(expect.arrayContaining([queryKeys.buildsAll, queryKeys.buildersAll, queryKeys.grid, queryKeys.overview, queryKeys.build(7)]));
  });
  it("a finished build refreshes the tests' histories; its tests, files and debug sessions sit under the build's key", () => {
    expect(staleKeys('build:finished', { build_id: 7 })).toEqual(expect.arrayContaining([queryKeys.testsAll]));
    expect(queryKeys.testHistory('test_os').slice(0, 1)).toEqual(queryKeys.testsAll);
    for (const key of [queryKeys.buildTests(7), queryKeys.buildArtifacts(7), queryKeys.debugSessions(7)]) expect(key.slice(0, 2)).toEqual(queryKeys.build(7));
  });
  it('a step event refreshes only its build; output refreshes nothing (open logs listen themselves)', () => {
    expect(staleKeys('step:finished', { build_id: 3 })).toEqual([queryKeys.build(3)]);
    expect(staleKeys('step:output', { build_id: 3, step_id: 9 })).toEqual([]);
  });
  it('worker events refresh the workers and the overview', () => {
    expect(staleKeys('worker:disconnected', { worker: 'w' })).toEqual([queryKeys.workersAll, queryKeys.overview]);
  });
  it('application events refresh the application list; a decision and a retirement refresh the workers too', () => {
    expect(staleKeys('application:submitted', { application_id: 1, name: 'w' })).toEqual([queryKeys.applications]);
    expect(staleKeys('application:decided', { application_id: 1, state: 'approved' })).toEqual(expect.arrayContaining([queryKeys.applications, queryKeys.workersAll]));
    expect(staleKeys('worker:retired', { worker: 'w' })).toEqual(expect.arrayContaining([queryKeys.workersAll]));
  });
  it('the health views refresh with the workers family, which finished builds invalidate', () => {
    expect(queryKeys.health.slice(0, 1)).toEqual(queryKeys.workersAll);
    expect(queryKeys.retiredWorkers.slice(0, 1)).toEqual(queryKeys.workersAll);
    expect(staleKeys('build:finished', { build_id: 1 })).toEqual(expect.arrayContaining([queryKeys.workersAll]));
  });
});
