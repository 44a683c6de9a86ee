/**
 * A small Kubernetes API server for the kubernetes provider's tests: plain
 * HTTP on 127.0.0.1, speaking the core/v1 pod endpoints the provider uses
 * with the real shapes (Pod, PodList, Status), so the real client library
 * talks to it unchanged:
 *
 *     POST   /api/v1/namespaces/NS/pods         201 Pod; 409 AlreadyExists; 422 Invalid (bad name or label)
 *     GET    /api/v1/namespaces/NS/pods         200 PodList, ?labelSelector=k=v,k2!=v2 (equality selectors)
 *     GET    /api/v1/namespaces/NS/pods/NAME    200 Pod; 404 NotFound
 *     DELETE /api/v1/namespaces/NS/pods/NAME    200 Pod (removed at once); 404 NotFound
 *
 * With `token` set, a request without `Authorization: Bearer TOKEN` gets 401
 * (as the API server answers an unknown token). Pods start Pending; a test
 * moves them on with setPhase. Pod names are unique across namespaces here
 * (the `pods` map is keyed by name), which the tests never need otherwise.
 * A test helper, not a test: it has no assertions of its own.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A pod as the fake stores it: the JSON the API would return. */
export interface FakePod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  spec: Record<string, unknown>;
  status: { phase: string; startTime?: string; [key: string]: unknown };
}

/** One request the fake answered. */
export interface FakeCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, when there was one. */
  body?: unknown;
}

export interface FakeKubernetesServer {
  /** `http://127.0.0.1:PORT`: the provider's `endpoint`. */
  url: string;
  /** The pods by name; tests may read and change them. */
  pods: Map<string, FakePod>;
  calls: FakeCall[];
  /** Moves a pod to a phase (Pending, Running, Succeeded, Failed, Unknown). */
  setPhase(name: string, phase: string): void;
  /** While true, requests are recorded but never answered (a stalled API server). */
  stalled: boolean;
  close(): Promise<void>;
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** A v1 Status, the body of every API error. */
function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** Whether a pod's labels satisfy an equality-based selector (`a=b,c==d,e!=f`; empty selects all). */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  for (const term of selector.split(',').map((t) => t.trim()).filter(Boolean)) {
    const match = /^([^!=\s]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!match) throw new Error(`unable to parse requirement: ${term}`);
    const [, key, op, value] = match;
    const actual = labels?.[key!];
    if (op === '!=' ? actual === value : actual !== value) return false;
  }
  return true;
}

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeKubernetesServer({ token }: { token?: string } = {}): Promise<FakeKubernetesServer> {
  const pods = new Map<string, FakePod>();
  const calls: FakeCall[] = [];
  let version = 1000;
  const nextVersion = () => String(++version);
  // The API server's timestamps: RFC 3339, whole seconds.
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  function send(response: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  const notFound = (name: string) => statusBody(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });

  function createPod(namespace: string, body: unknown): [number, unknown] {
    const pod = body as Partial<FakePod> | undefined;
    const name = pod?.metadata?.name;
    if (pod?.kind !== 'Pod' || pod.apiVersion !== 'v1') return [400, statusBody(400, 'BadRequest', 'the body is not a v1 Pod')];
    if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      return [422, statusBody(422, 'Invalid', `Pod "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`)];
    }
    if (pod.metadata?.namespace !== undefined && pod.metadata.namespace !== namespace) {
      return [400, statusBody(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')];
    }
    for (const [key, value] of Object.entries(pod.metadata?.labels ?? {})) {
      if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
        return [422, statusBody(422, 'Invalid', `Pod "${name}" is invalid: metadata.labels: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (label ${key})`)];
      }
    }
    if (pods.has(name)) return [409, statusBody(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' })];
    const stored: FakePod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...pod.metadata, name, namespace, uid: randomUUID(), resourceVersion: nextVersion(), creationTimestamp: now() },
      spec: pod.spec ?? {},
      status: { phase: 'Pending' },
    };
    pods.set(name, stored);
    return [201, stored];
  }

  function answer(method: string, namespace: string, name: string | undefined, query: Record<string, string>, body: unknown): [number, unknown] {
    const pod = name === undefined ? undefined : pods.get(name);
    const here = pod && pod.metadata.namespace === namespace ? pod : undefined;
    if (name === undefined && method === 'POST') return createPod(namespace, body);
    if (name === undefined && method === 'GET') {
      let items: FakePod[];
      try {
        items = [...pods.values()].filter((p) => p.metadata.namespace === namespace && matchesSelector(p.metadata.labels, query.labelSelector ?? ''));
      } catch (error) {
        return [400, statusBody(400, 'BadRequest', (error as Error).message)];
      }
      return [200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(version) }, items }];
    }
    if (name !== undefined && method === 'GET') return here ? [200, here] : [404, notFound(name)];
    if (name !== undefined && method === 'DELETE') {
      if (!here) return [404, notFound(name)];
      pods.delete(name);
      return [200, { ...here, metadata: { ...here.metadata, deletionTimestamp: now(), resourceVersion: nextVersion() } }];
    }
    return [405, statusBody(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)];
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(response, 400, statusBody(400, 'BadRequest', 'the body is not JSON'));
    }
    const method = request.method ?? 'GET';
    calls.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), ...(body === undefined ? {} : { body }) });
    if (fake.stalled) return;
    if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
      return send(response, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    }
    const match = POD_PATH.exec(url.pathname);
    if (!match) return send(response, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
    const [code, reply] = answer(method, decodeURIComponent(match[1]!), match[2] === undefined ? undefined : decodeURIComponent(match[2]), Object.fromEntries(url.searchParams), body);
    send(response, code, reply);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => send(response, 500, statusBody(500, 'InternalError', error.message)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeKubernetesServer = {
    stalled: false,
    url: `http://127.0.0.1:${port}`,
    pods,
    calls,
    setPhase(name, phase) {
      const pod = pods.get(name);
      if (!pod) throw new Error(`fake kubernetes: no pod ${name}`);
      pod.status = { ...pod.status, phase, ...(phase !== 'Pending' && !pod.status.startTime ? { startTime: now() } : {}) };
      pod.metadata.resourceVersion = nextVersion();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
}
