/**
 * Every read the UI makes, as TanStack Query hooks with one set of keys.
 * Nothing polls: the live event stream (live.tsx) invalidates these keys
 * when the farm changes, and the views refetch what they show.
 */
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { DebugSessionJson } from '../debug/debug-protocol.js';
import type {
  ApplicationJson,
  ArtifactListJson,
  BuildDetailJson,
  BuilderDetailJson,
  BuilderJson,
  BuildListJson,
  BuildTestsJson,
  ChangeWithBuildsJson,
  CostJson,
  GridJson,
  HealthHistoryJson,
  HealthJson,
  InstanceJson,
  OverviewJson,
  RequestJson,
  RetiredWorkerJson,
  SchedulerJson,
  TestHistoryJson,
  WorkerJson,
} from '../../../src/master/api/schemas.js';
import { ApiError, apiGet } from './client.js';
import { useToken } from './token.js';

/** Query keys, grouped so one event can invalidate a family. */
export const queryKeys = {
  overview: ['overview'] as const,
  buildersAll: ['builders'] as const,
  builder: (name: string) => ['builders', name] as const,
  buildsAll: ['builds'] as const,
  builds: (filter: BuildFilter) => ['builds', filter] as const,
  build: (id: number) => ['build', id] as const,
  /** Under the build: its step events (results are stored as a step ends) refresh them. */
  buildTests: (id: number) => ['build', id, 'tests'] as const,
  buildArtifacts: (id: number) => ['build', id, 'artifacts'] as const,
  debugSessions: (id: number) => ['build', id, 'debug-sessions'] as const,
  testsAll: ['tests'] as const,
  testHistory: (name: string) => ['tests', name] as const,
  workersAll: ['workers'] as const,
  worker: (name: string) => ['workers', name] as const,
  /**
   * Under `workers`: worker events and finished builds (which move red
   * streaks and queue waits) refresh them. Objects, not strings, so no
   * worker's name (`['workers', name]`) can share their key.
   */
  health: ['workers', { view: 'health' }] as const,
  healthHistory: (days: number) => ['workers', { view: 'health-history', days }] as const,
  coverage: ['workers', { view: 'coverage' }] as const,
  retiredWorkers: ['workers', { view: 'retired' }] as const,
  /** Under `workers` too: an instance connecting or leaving is a worker event. */
  cost: ['workers', { view: 'cost' }] as const,
  instances: (days: number) => ['workers', { view: 'instances', days }] as const,
  /** Keyed by the token too: another token may be refused, or accepted where this one was not. */
  applications: ['applications'] as const,
  applicationsFor: (token: string | null) => ['applications', token] as const,
  requests: ['requests'] as const,
  grid: ['grid'] as const,
  gridFor: (filter: GridFilter) => ['grid', filter] as const,
  changes: ['changes'] as const,
  schedulers: ['schedulers'] as const,
};

/** Filters of the build list. */
export interface BuildFilter {
  builder?: string;
  worker?: string;
  state?: 'running' | 'finished';
  limit?: number;
  before?: number;
}

/** Filters of the grid and console. */
export interface GridFilter {
  changes?: number;
  builder?: string;
  tag?: string;
  branch?: string;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The home page's summary. */
export function useOverview() {
  return useQuery({ queryKey: queryKeys.overview, queryFn: ({ signal }) => apiGet<OverviewJson>('/overview', signal) });
}

/** Every builder with its last build. */
export function useBuilders() {
  return useQuery({
    queryKey: queryKeys.buildersAll,
    queryFn: ({ signal }) => apiGet<{ builders: BuilderJson[] }>('/builders', signal).then((r) => r.builders),
  });
}

/** One builder, its pending requests and its workers. */
export function useBuilder(name: string) {
  return useQuery({ queryKey: queryKeys.builder(name), queryFn: ({ signal }) => apiGet<BuilderDetailJson>(`/builders/${encodeURIComponent(name)}`, signal) });
}

/** A page of builds, newest first. */
export function useBuilds(filter: BuildFilter) {
  return useQuery({
    queryKey: queryKeys.builds(filter),
    queryFn: ({ signal }) => apiGet<BuildListJson>(`/builds${query({ ...filter })}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** One build with its steps and blamelist. */
export function useBuild(id: number) {
  return useQuery({ queryKey: queryKeys.build(id), queryFn: ({ signal }) => apiGet<BuildDetailJson>(`/builds/${id}`, signal) });
}

/** Every worker with its live state. */
export function useWorkers() {
  return useQuery({
    queryKey: queryKeys.workersAll,
    queryFn: ({ signal }) => apiGet<{ workers: WorkerJson[] }>('/workers', signal).then((r) => r.workers),
  });
}

/** One worker. */
export function useWorker(name: string) {
  return useQuery({ queryKey: queryKeys.worker(name), queryFn: ({ signal }) => apiGet<WorkerJson>(`/workers/${encodeURIComponent(name)}`, signal) });
}

/**
 * The queue, in serving order, each queued request with why it waits. Why
 * it waits changes with no event (a pool's backoff ends, the budget fills),
 * so it also refreshes every 30 s.
 */
export function useRequests() {
  return useQuery({
    queryKey: queryKeys.requests,
    queryFn: ({ signal }) => apiGet<{ requests: RequestJson[] }>('/requests', signal).then((r) => r.requests),
    refetchInterval: 30_000,
  });
}

/** Builders × recent changes. */
export function useGrid(filter: GridFilter) {
  return useQuery({
    queryKey: queryKeys.gridFor(filter),
    queryFn: ({ signal }) => apiGet<GridJson>(`/grid${query({ ...filter })}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** Recent changes with their builds. */
export function useChanges(limit = 50) {
  return useQuery({
    queryKey: [...queryKeys.changes, limit],
    queryFn: ({ signal }) => apiGet<{ changes: ChangeWithBuildsJson[]; next: number | null }>(`/changes?limit=${limit}`, signal),
  });
}

/** The schedulers (force forms use their parameters). */
export function useSchedulers() {
  return useQuery({
    queryKey: queryKeys.schedulers,
    queryFn: ({ signal }) => apiGet<{ schedulers: SchedulerJson[] }>('/schedulers', signal).then((r) => r.schedulers),
    staleTime: Infinity,
  });
}

/** The farm's health (the health page, and the home page's long-red builders): one read for every builder. */
export function useHealth() {
  return useQuery({ queryKey: queryKeys.health, queryFn: ({ signal }) => apiGet<HealthJson>('/health', signal), refetchInterval: 60_000 });
}

/** The farm score's recorded samples over the last `days`, oldest first. */
export function useHealthHistory(days: number) {
  return useQuery({
    queryKey: queryKeys.healthHistory(days),
    queryFn: ({ signal }) => apiGet<HealthHistoryJson>(`/health/history?days=${days}`, signal).then((r) => r.samples),
  });
}

/**
 * On-demand spend this month against the budget. No event marks a pool
 * backing off or money being spent, so it also refreshes every 30 s; a
 * master without pools answers 503, which is not retried.
 */
export function useCost() {
  return useQuery({
    queryKey: queryKeys.cost,
    queryFn: ({ signal }) => apiGet<CostJson>('/cost', signal),
    refetchInterval: 30_000,
    retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status === 503),
  });
}

/** On-demand instances that ran in the last `days`, oldest first (as the API answers). */
export function useInstances(days: number) {
  return useQuery({
    queryKey: queryKeys.instances(days),
    queryFn: ({ signal }) => apiGet<{ instances: InstanceJson[] }>(`/instances?days=${days}`, signal).then((r) => r.instances),
    refetchInterval: 30_000,
  });
}

/** Retired workers, most recently retired first. */
export function useRetiredWorkers() {
  return useQuery({
    queryKey: queryKeys.retiredWorkers,
    queryFn: ({ signal }) => apiGet<{ workers: RetiredWorkerJson[] }>('/retired-workers', signal).then((r) => r.workers),
  });
}

/**
 * Every application, newest first: operators only (they carry volunteers'
 * contacts), so it runs only with a token, and a refused token is said so
 * in the header. Refreshed by the application events.
 */
export function useApplications() {
  const { token, markRefused } = useToken();
  return useQuery({
    queryKey: queryKeys.applicationsFor(token),
    enabled: token !== null,
    queryFn: async ({ signal }) => {
      try {
        return (await apiGet<{ applications: ApplicationJson[] }>('/applications', signal, token)).applications;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) markRefused();
        throw error;
      }
    },
  });
}

/** How many tests a page of the build's tests shows at first, and adds per "more". */
export const TESTS_PAGE = 50;

/** A build's tests, failures first, a page at a time (the API's `next_offset`). */
export function useBuildTests(id: number) {
  return useInfiniteQuery({
    queryKey: queryKeys.buildTests(id),
    initialPageParam: 0,
    queryFn: ({ pageParam, signal }) => apiGet<BuildTestsJson>(`/builds/${id}/tests${query({ offset: pageParam, limit: TESTS_PAGE })}`, signal),
    getNextPageParam: (last) => last.next_offset ?? undefined,
  });
}

/** A build's files: stored ones with their download links, skipped ones with the reason. */
export function useBuildArtifacts(id: number) {
  return useQuery({
    queryKey: queryKeys.buildArtifacts(id),
    queryFn: ({ signal }) => apiGet<ArtifactListJson>(`/builds/${id}/artifacts`, signal).then((r) => r.artifacts),
  });
}

/** A test's runs, newest first, with what separates where it fails from where it passes. */
export function useTestHistory(name: string) {
  return useInfiniteQuery({
    queryKey: queryKeys.testHistory(name),
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam, signal }) => apiGet<TestHistoryJson>(`/tests/history${query({ name, before: pageParam })}`, signal),
    getNextPageParam: (last) => last.next ?? undefined,
    enabled: name !== '',
  });
}

/** A build's debug sessions (the audit), newest first. */
export function useDebugSessions(id: number) {
  return useQuery({
    queryKey: queryKeys.debugSessions(id),
    queryFn: ({ signal }) => apiGet<{ sessions: DebugSessionJson[] }>(`/builds/${id}/debug-sessions`, signal).then((r) => r.sessions),
  });
}
