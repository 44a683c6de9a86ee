/**
 * The `kubernetes` provider: each instance is one pod in the pool's
 * namespace, running the pool's image (it needs Node 20 and curl or wget):
 *
 *     name         shepherd-INSTANCE (lowercased; a short hash is added when
 *                  the name had to be changed or cut, so names never collide)
 *     labels       shepherd-master=ID (the tag), shepherd-pool, shepherd-worker
 *     annotations  shepherd-pool, shepherd-worker: the exact names, which a
 *                  label value (63 characters, a smaller alphabet) cannot always hold
 *     container    /bin/sh -c SCRIPT: fetch the worker bundle from the master,
 *                  write worker.yml, exec node; restartPolicy Never
 *
 * The script is a constant: every value of ours (the bundle URL, worker.yml,
 * the token) travels in the container's environment, so nothing is ever
 * interpolated into a shell command. The token is only in
 * SHEPHERD_WORKER_SECRET, the variable worker.yml names as `secret_env`.
 *
 * The pod name is derived from the instance name, so the API server itself
 * refuses a second pod for a running instance (409 AlreadyExists): two agents
 * never connect as one worker. A finished pod of ours left with that name (its
 * agent exited on its own and nobody deleted it) is removed and replaced.
 */
import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, createConfiguration, KubeConfig, ServerConfiguration, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { LatentPoolConfig } from '../../config/schema.js';
import {
  instanceEnv,
  LatentProviderError,
  specProblem,
  workerBundleUrl,
  type InstanceSpec,
  type InstanceStatus,
  type LatentProvider,
  type ListedInstance,
  type StartedInstance,
} from './provider.js';

type Operation = LatentProviderError['operation'];

/** A pool's `kubernetes` settings, as the config schema makes them. */
export type KubernetesSettings = NonNullable<LatentPoolConfig['kubernetes']>;

/** Options of the kubernetes provider; one per pool (each pool has its own namespace and image). */
export interface KubernetesProviderOptions {
  settings: KubernetesSettings;
  /** This master's tag (`shepherd-master=ID`), written as a label: list() selects on it. */
  tag: string;
  /** Where `settings.token_env` is read (the master's environment). */
  env?: NodeJS.ProcessEnv;
  /** A ready KubeConfig, instead of one made from the settings (tests, or a master embedding us). */
  kubeConfig?: KubeConfig;
  /** Time limit of one API request: a stalled API server must not stall the pool. */
  requestTimeoutMs?: number;
}

/** The label (and annotation) keys on our pods, beside the tag's own key. */
export const POOL_LABEL = 'shepherd-pool';
export const WORKER_LABEL = 'shepherd-worker';

const TOKEN_ENV = 'SHEPHERD_WORKER_SECRET';
const WORK_DIR = '/shepherd';

/**
 * The container's script. It names only variables: the values are in the
 * environment (see the file comment). curl first, wget (busybox has one) when
 * the image has no curl.
 */
export const POD_SCRIPT = [
  'set -eu',
  'if command -v curl >/dev/null 2>&1; then',
  '  curl -fsSL --retry 5 -o shepherd-worker.mjs "$SHEPHERD_BUNDLE_URL"',
  'else',
  '  wget -q -O shepherd-worker.mjs "$SHEPHERD_BUNDLE_URL"',
  'fi',
  'printf "%s\\n" "$SHEPHERD_WORKER_CONFIG" > worker.yml',
  'exec node shepherd-worker.mjs --config worker.yml',
].join('\n');

const shortHash = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 8);

/**
 * The pod of an instance: `shepherd-NAME`, a DNS-1123 label (lowercase
 * letters, digits, "-"; at most 63, since it is also the pod's hostname).
 * A name that is not already one gets its other characters replaced, is cut
 * to fit, and gets a hash of the original name, so `A.b` and `a_b` stay apart.
 */
export function podName(instance: string): string {
  const plain = `shepherd-${instance}`;
  if (plain.length <= 63 && /^[a-z0-9-]*[a-z0-9]$/.test(instance)) return plain;
  const body = instance
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63 - 'shepherd-'.length - 9)
    .replace(/-+$/, '');
  return `shepherd-${body ? `${body}-` : ''}${shortHash(instance)}`;
}

/** Whether an id can be a pod name at all (what stop and status accept). */
export function isPodName(id: string): boolean {
  return id.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(id);
}

/**
 * A label value holding `value`: itself when Kubernetes allows it (at most 63
 * letters, digits, "-", "_", ".", starting and ending alphanumeric), else a
 * cut, cleaned form with a hash of the original, so different values keep
 * different labels. Selectors use the same function, so they always match.
 */
export function labelValue(value: string): string {
  if (value.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) return value;
  const body = value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63 - 9)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${body ? `${body}-` : ''}${shortHash(value)}`;
}

/** The tag `KEY=VALUE` as a label, or null when it is not one. */
export function tagLabel(tag: string): { key: string; value: string } | null {
  const at = tag.indexOf('=');
  if (at <= 0) return null;
  const key = tag.slice(0, at);
  // A label key without a prefix: a DNS-1123-ish name of at most 63 characters.
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(key)) return null;
  return { key, value: labelValue(tag.slice(at + 1)) };
}

/** The phases a pod never leaves: its container ended and, with restartPolicy Never, stays ended. */
const FINISHED = new Set(['Succeeded', 'Failed']);

/** What a pod's phase says about the instance (Unknown: the node stopped reporting). */
export function podStatus(pod: V1Pod): InstanceStatus {
  const phase = pod.status?.phase;
  if (phase === 'Pending' || phase === 'Running') return 'running';
  if (phase && FINISHED.has(phase)) return 'stopped';
  return 'unknown';
}

/** The pod the provider creates for a spec (see the file comment). */
export function podManifest(spec: InstanceSpec, namespace: string, image: string, tag: { key: string; value: string }): V1Pod {
  const config = stringify({ master: spec.master, name: spec.name, secret_env: TOKEN_ENV, dir: 'work', dimensions: { ...spec.dimensions } });
  // The token once, in the variable worker.yml names: SHEPHERD_WORKER_TOKEN
  // holds the same value and nothing in the pod reads it.
  const { SHEPHERD_WORKER_TOKEN: _duplicate, ...shepherdEnv } = instanceEnv(spec);
  const env = { ...shepherdEnv, SHEPHERD_BUNDLE_URL: workerBundleUrl(spec.master), SHEPHERD_WORKER_CONFIG: config };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(spec.name),
      namespace,
      labels: { [tag.key]: tag.value, [POOL_LABEL]: labelValue(spec.pool), [WORKER_LABEL]: labelValue(spec.name) },
      annotations: { [POOL_LABEL]: spec.pool, [WORKER_LABEL]: spec.name },
    },
    spec: {
      restartPolicy: 'Never',
      // Build steps run arbitrary code: they get no credentials for the cluster.
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'agent',
          image,
          command: ['/bin/sh', '-c', POD_SCRIPT],
          workingDir: WORK_DIR,
          env: Object.entries(env).map(([name, value]) => ({ name, value })),
          volumeMounts: [{ name: 'work', mountPath: WORK_DIR }],
        },
      ],
      // Writable whatever the image's user and root filesystem.
      volumes: [{ name: 'work', emptyDir: {} }],
    },
  };
}

/** An instance list() reports for a pod, or null when the pod is finished or being deleted. */
export function listedPod(pod: V1Pod): ListedInstance | null {
  const name = pod.metadata?.name;
  if (!name || pod.metadata?.deletionTimestamp || podStatus(pod) !== 'running') return null;
  const tagged = (key: string) => pod.metadata?.annotations?.[key] ?? pod.metadata?.labels?.[key];
  const worker = tagged(WORKER_LABEL);
  const pool = tagged(POOL_LABEL);
  const started = [pod.metadata?.creationTimestamp, pod.status?.startTime]
    .map((time) => (time === undefined ? NaN : new Date(time).getTime()))
    .find(Number.isFinite);
  return {
    id: name,
    ...(worker ? { name: worker } : {}),
    ...(pool ? { pool } : {}),
    ...(started !== undefined ? { startedAt: started } : {}),
  };
}

/** The HTTP status of a failed API call, when it got that far. */
function httpStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? (error.code as number) : undefined;
}

/**
 * One line about a failed API call: the HTTP status and the API's Status
 * reason and message (`HTTP 409 AlreadyExists: pods "x" already exists`), or
 * the network error. Never the request: it carries the bearer token.
 */
export function describeApiError(error: unknown): string {
  if (!(error instanceof ApiException)) return error instanceof Error ? error.message : String(error);
  let status: { reason?: unknown; message?: unknown } | undefined;
  try {
    status = typeof error.body === 'string' ? JSON.parse(error.body) : (error.body as typeof status);
  } catch {
    status = undefined;
  }
  const reason = typeof status?.reason === 'string' ? status.reason : error.code === 401 ? 'Unauthorized' : '';
  const message = typeof status?.message === 'string' && status.message !== reason ? status.message : '';
  const raw = !status && typeof error.body === 'string' ? error.body.trim().slice(0, 200) : '';
  return [`HTTP ${error.code}`, reason && ` ${reason}`, (message || raw) && `: ${message || raw}`].join('');
}

/** The KubeConfig the settings describe (see KubernetesSettings' endpoint and token_env). */
export function kubeConfigFor(settings: KubernetesSettings, env: NodeJS.ProcessEnv): KubeConfig {
  let token: string | undefined;
  if (settings.token_env) {
    token = env[settings.token_env];
    if (!token) throw new LatentProviderError('kubernetes', 'start', `kubernetes.token_env: environment variable ${settings.token_env} is not set`);
  }
  const config = new KubeConfig();
  if (settings.endpoint) {
    // The client refuses http:// unless told to skip TLS checks; plain HTTP
    // has none to skip (kubectl proxy, tests). https:// is always verified.
    const plain = new URL(settings.endpoint).protocol === 'http:';
    config.loadFromClusterAndUser({ name: 'shepherd', server: settings.endpoint, skipTLSVerify: plain }, { name: 'shepherd', ...(token ? { token } : {}) });
    return config;
  }
  config.loadFromDefault();
  if (token) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new LatentProviderError('kubernetes', 'start', 'kubernetes.token_env is set but the kubeconfig names no current cluster; set kubernetes.endpoint');
    config.loadFromClusterAndUser(cluster, { name: 'shepherd', token });
  }
  return config;
}

/**
 * The pod API client: KubeConfig.makeApiClient's, plus an abort signal on
 * every request (the client has no time limit of its own).
 */
function podApi(config: KubeConfig, timeoutMs: number): CoreV1Api {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new LatentProviderError('kubernetes', 'start', 'the kubeconfig names no current cluster; set kubernetes.endpoint');
  return new CoreV1Api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: config },
      promiseMiddleware: [
        {
          pre: async (context) => {
            context.setSignal(AbortSignal.timeout(timeoutMs));
            return context;
          },
          post: async (context) => context,
        },
      ],
    }),
  );
}

/** Creates a kubernetes provider (see the file comment). */
export function createKubernetesProvider({
  settings,
  tag,
  env = process.env,
  kubeConfig,
  requestTimeoutMs = 30_000,
}: KubernetesProviderOptions): LatentProvider {
  const parsedTag = tagLabel(tag);
  if (!parsedTag) throw new LatentProviderError('kubernetes', 'start', `tag "${tag}" is not KEY=VALUE with a valid label key`);
  const label = parsedTag;
  const api = podApi(kubeConfig ?? kubeConfigFor(settings, env), requestTimeoutMs);
  const namespace = settings.namespace;

  const fail = (operation: Operation, what: string, error: unknown) => {
    const why = (error as Error | undefined)?.name === 'AbortError' ? `no answer within ${requestTimeoutMs} ms` : describeApiError(error);
    return new LatentProviderError('kubernetes', operation, `${what}: ${why}`, { cause: error });
  };

  async function start(spec: InstanceSpec): Promise<StartedInstance> {
    const problem = specProblem(spec, tag);
    if (problem) throw new LatentProviderError('kubernetes', 'start', problem);
    const body = podManifest(spec, namespace, settings.image, label);
    const name = body.metadata!.name!;
    const create = () => api.createNamespacedPod({ namespace, body });
    try {
      await create();
    } catch (error) {
      if (httpStatus(error) !== 409 || !(await replaceFinished(name))) {
        throw fail('start', `could not create pod ${namespace}/${name}`, error);
      }
      try {
        await create();
      } catch (again) {
        throw fail('start', `could not create pod ${namespace}/${name} after removing its finished predecessor`, again);
      }
    }
    return { id: name };
  }

  /**
   * After a 409: deletes the pod of that name when it is ours and finished,
   * at once (nothing runs in it); true when it did, so start may retry.
   */
  async function replaceFinished(name: string): Promise<boolean> {
    let pod: V1Pod;
    try {
      pod = await api.readNamespacedPod({ name, namespace });
    } catch {
      return false;
    }
    if (pod.metadata?.labels?.[label.key] !== label.value || pod.metadata?.deletionTimestamp || podStatus(pod) !== 'stopped') return false;
    try {
      await api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    } catch (error) {
      if (httpStatus(error) !== 404) return false;
    }
    return true;
  }

  async function stop(id: string): Promise<void> {
    if (!isPodName(id)) throw new LatentProviderError('kubernetes', 'stop', `"${id}" is not a pod name`);
    try {
      await api.deleteNamespacedPod({ name: id, namespace });
    } catch (error) {
      if (httpStatus(error) === 404) return;
      throw fail('stop', `could not delete pod ${namespace}/${id}`, error);
    }
  }

  async function status(id: string): Promise<InstanceStatus> {
    if (!isPodName(id)) return 'unknown';
    try {
      return podStatus(await api.readNamespacedPod({ name: id, namespace }));
    } catch (error) {
      if (httpStatus(error) === 404) return 'unknown';
      throw fail('status', `could not read pod ${namespace}/${id}`, error);
    }
  }

  async function list(): Promise<ListedInstance[]> {
    const selector = `${label.key}=${label.value}`;
    let pods: V1Pod[];
    try {
      pods = (await api.listNamespacedPod({ namespace, labelSelector: selector })).items;
    } catch (error) {
      throw fail('list', `could not list pods in ${namespace} with ${selector}`, error);
    }
    return pods.map(listedPod).filter((pod): pod is ListedInstance => pod !== null);
  }

  return { kind: 'kubernetes', start, stop, status, list };
}
