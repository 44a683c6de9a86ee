/**
 * A small stand-in for the EC2 Query API, for tests of the ec2 provider (and
 * of the pool service end to end): a real HTTP server on 127.0.0.1 that the
 * real @aws-sdk/client-ec2 talks to, pointed there by the pool's
 * `ec2.endpoint`. It speaks the three calls the provider makes
 * (RunInstances, TerminateInstances, DescribeInstances) with EC2's own form
 * parameters and XML shapes, keeps instances in memory, and records every
 * request so a test can see exactly what was asked.
 *
 * What it copies from EC2, because the provider must cope with it:
 * - errors are `<Response><Errors><Error><Code>` XML with status 400 (unknown
 *   or malformed instance ids, unknown filters) or whatever a test injects;
 * - a RunInstances repeated with the same ClientToken returns the first
 *   reservation instead of starting a second instance (SDK retries rely on it);
 * - new instances start `pending`; terminated ones stay visible as
 *   `terminated`;
 * - DescribeInstances pages with nextToken (MaxResults, or `pageSize`), cut
 *   before filtering, so a page can be empty and still have a next one;
 * - a new instance can be made invisible for its first few Describe and
 *   Terminate calls (`lagNext`), as EC2's eventual consistency does.
 * Signatures (SigV4) are accepted without being checked.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** EC2's instance state names, with their codes. */
export const EC2_STATE_CODES = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
} as const;

export type FakeInstanceState = keyof typeof EC2_STATE_CODES;

/** One instance the fake started. */
export interface FakeInstance {
  id: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  state: FakeInstanceState;
  tags: Record<string, string>;
  launchTime: Date;
  /** The UserData parameter as sent (base64). */
  userData?: string;
  subnetId?: string;
  securityGroupIds: string[];
  /** The InstanceMarketOptions.MarketType, when set. */
  marketType?: string;
  /** Describe/Terminate calls that still answer InvalidInstanceID.NotFound for it. */
  invisibleFor: number;
}

/** One request the fake received: its Action and every form parameter (Action and Version included). */
export interface FakeEc2Call {
  action: string;
  params: Record<string, string>;
}

/** A running fake EC2 endpoint. */
export interface FakeEc2Server {
  /** `http://127.0.0.1:PORT`, for the pool's `ec2.endpoint`. */
  url: string;
  instances: Map<string, FakeInstance>;
  calls: FakeEc2Call[];
  /** The calls of one action, in order. */
  callsOf(action: string): FakeEc2Call[];
  /** The next `times` requests of `action` fail with this EC2 error code (status 400 unless given). */
  failNext(action: string, code: string, message: string, options?: { status?: number; times?: number }): void;
  /** The next instance started is invisible (NotFound) for its first `calls` Describe/Terminate calls naming it. */
  lagNext(calls: number): void;
  /** Sets an instance's state, as EC2 would (it booted, it was terminated from the console, a spot reclaim). */
  setState(id: string, state: FakeInstanceState): void;
  close(): Promise<void>;
}

class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The values of a list parameter, `NAME.1`, `NAME.2`, ... in index order. */
export function listParam(params: Record<string, string>, name: string): string[] {
  const found: Array<[number, string]> = [];
  const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)$`);
  for (const [key, value] of Object.entries(params)) {
    const match = pattern.exec(key);
    if (match) found.push([Number(match[1]), value]);
  }
  return found.sort(([a], [b]) => a - b).map(([, value]) => value);
}

/** The indexes N present for a structure list `NAME.N.*`, ascending. */
function listIndexes(params: Record<string, string>, name: string): number[] {
  const indexes = new Set<number>();
  const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)\\.`);
  for (const key of Object.keys(params)) {
    const match = pattern.exec(key);
    if (match) indexes.add(Number(match[1]));
  }
  return [...indexes].sort((a, b) => a - b);
}

/** The tags of `TagSpecification.N` for a resource type, as a record. */
export function tagSpecification(params: Record<string, string>, resourceType: string): Record<string, string> | undefined {
  for (const n of listIndexes(params, 'TagSpecification')) {
    if (params[`TagSpecification.${n}.ResourceType`] !== resourceType) continue;
    const tags: Record<string, string> = {};
    for (const t of listIndexes(params, `TagSpecification.${n}.Tag`)) {
      tags[params[`TagSpecification.${n}.Tag.${t}.Key`] ?? ''] = params[`TagSpecification.${n}.Tag.${t}.Value`] ?? '';
    }
    return tags;
  }
  return undefined;
}

/** `Filter.N.Name` with its `Filter.N.Value.M`. */
function filters(params: Record<string, string>): Array<{ name: string; values: string[] }> {
  return listIndexes(params, 'Filter').map((n) => ({ name: params[`Filter.${n}.Name`] ?? '', values: listParam(params, `Filter.${n}.Value`) }));
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function stateXml(element: string, state: FakeInstanceState): string {
  return `<${element}><code>${EC2_STATE_CODES[state]}</code><name>${state}</name></${element}>`;
}

function instanceXml(instance: FakeInstance): string {
  const tags = Object.entries(instance.tags)
    .map(([key, value]) => `<item><key>${escapeXml(key)}</key><value>${escapeXml(value)}</value></item>`)
    .join('');
  return [
    '<item>',
    `<instanceId>${instance.id}</instanceId>`,
    `<imageId>${escapeXml(instance.imageId)}</imageId>`,
    stateXml('instanceState', instance.state),
    `<instanceType>${escapeXml(instance.instanceType)}</instanceType>`,
    `<launchTime>${instance.launchTime.toISOString()}</launchTime>`,
    instance.subnetId ? `<subnetId>${escapeXml(instance.subnetId)}</subnetId>` : '',
    instance.marketType ? `<instanceLifecycle>${escapeXml(instance.marketType)}</instanceLifecycle>` : '',
    `<tagSet>${tags}</tagSet>`,
    '</item>',
  ].join('');
}

function reservationBody(reservationId: string, instances: FakeInstance[]): string {
  return `<reservationId>${reservationId}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>${instances.map(instanceXml).join('')}</instancesSet>`;
}

function responseXml(action: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>${hex(16)}</requestId>${body}</${action}Response>`;
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${hex(16)}</RequestID></Response>`;
}

/** Starts a fake EC2 endpoint on 127.0.0.1 (see the file comment). */
export async function startFakeEc2Server({ pageSize = 1000 }: { pageSize?: number } = {}): Promise<FakeEc2Server> {
  const instances = new Map<string, FakeInstance>();
  const calls: FakeEc2Call[] = [];
  const failures: Array<{ action: string; code: string; message: string; status: number }> = [];
  const byClientToken = new Map<string, string>();
  let lag = 0;

  /** The instance, or InvalidInstanceID.* as EC2 answers for ids it does not know (yet). */
  function known(ids: string[]): FakeInstance[] {
    const malformed = ids.find((id) => !/^i-[0-9a-f]{8,17}$/.test(id));
    if (malformed !== undefined) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const missing: string[] = [];
    const found: FakeInstance[] = [];
    for (const id of ids) {
      const instance = instances.get(id);
      if (!instance || instance.invisibleFor > 0) {
        if (instance) instance.invisibleFor -= 1;
        missing.push(id);
      } else found.push(instance);
    }
    if (missing.length === 1) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return found;
  }

  function required(params: Record<string, string>, name: string): string {
    const value = params[name];
    if (!value) throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
    return value;
  }

  function runInstances(params: Record<string, string>): string {
    const token = params.ClientToken;
    const previous = token === undefined ? undefined : byClientToken.get(token);
    if (previous !== undefined) {
      const same = [...instances.values()].filter((i) => i.reservationId === previous);
      return reservationBody(previous, same);
    }
    const min = Number(required(params, 'MinCount'));
    const max = Number(required(params, 'MaxCount'));
    if (min !== 1 || max !== 1) throw new Ec2Error('InvalidParameterValue', `this fake starts one instance at a time (MinCount ${min}, MaxCount ${max})`);
    const userData = params.UserData;
    if (userData !== undefined && Buffer.from(userData, 'base64').toString('base64') !== userData) {
      throw new Ec2Error('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
    }
    const reservationId = `r-${hex(8)}`;
    const instance: FakeInstance = {
      id: `i-${hex(8)}`,
      reservationId,
      imageId: required(params, 'ImageId'),
      instanceType: params.InstanceType ?? 'm1.small',
      state: 'pending',
      tags: tagSpecification(params, 'instance') ?? {},
      // EC2 reports launch times to the second.
      launchTime: new Date(Math.floor(Date.now() / 1000) * 1000),
      userData,
      subnetId: params.SubnetId,
      securityGroupIds: listParam(params, 'SecurityGroupId'),
      marketType: params['InstanceMarketOptions.MarketType'],
      invisibleFor: lag,
    };
    lag = 0;
    instances.set(instance.id, instance);
    if (token !== undefined) byClientToken.set(token, reservationId);
    return reservationBody(reservationId, [instance]);
  }

  function terminateInstances(params: Record<string, string>): string {
    const ids = listParam(params, 'InstanceId');
    if (ids.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
    const items = known(ids).map((instance) => {
      const previous = instance.state;
      instance.state = 'terminated';
      const current: FakeInstanceState = previous === 'terminated' ? 'terminated' : 'shutting-down';
      return `<item><instanceId>${instance.id}</instanceId>${stateXml('currentState', current)}${stateXml('previousState', previous)}</item>`;
    });
    return `<instancesSet>${items.join('')}</instancesSet>`;
  }

  function matches(instance: FakeInstance, filter: { name: string; values: string[] }): boolean {
    if (filter.name === 'instance-state-name') return filter.values.includes(instance.state);
    if (filter.name === 'instance-id') return filter.values.includes(instance.id);
    if (filter.name === 'tag-key') return filter.values.some((key) => key in instance.tags);
    if (filter.name.startsWith('tag:')) {
      const value = instance.tags[filter.name.slice(4)];
      return value !== undefined && filter.values.includes(value);
    }
    throw new Ec2Error('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
  }

  function describeInstances(params: Record<string, string>): string {
    const ids = listParam(params, 'InstanceId');
    const wanted = filters(params);
    if (ids.length > 0 && params.MaxResults !== undefined) {
      throw new Ec2Error('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    // Filters are checked even when no instance exists, as EC2 does.
    const probe: FakeInstance = { id: 'i-00000000', reservationId: '', imageId: '', instanceType: '', state: 'pending', tags: {}, launchTime: new Date(), securityGroupIds: [], invisibleFor: 0 };
    for (const filter of wanted) matches(probe, filter);
    const candidates = ids.length > 0 ? known(ids) : [...instances.values()].filter((i) => i.invisibleFor === 0);
    const start = params.NextToken === undefined ? 0 : Number(params.NextToken);
    if (!Number.isInteger(start) || start < 0) throw new Ec2Error('InvalidParameterValue', `Invalid value '${params.NextToken}' for nextToken`);
    const size = Math.min(pageSize, params.MaxResults === undefined ? Infinity : Number(params.MaxResults));
    // Like EC2, a page is cut before the filters apply: it can hold fewer
    // matches than its size, none even, and still have a next page.
    const page = candidates.slice(start, start + size).filter((instance) => wanted.every((filter) => matches(instance, filter)));
    const reservations = new Map<string, FakeInstance[]>();
    for (const instance of page) reservations.set(instance.reservationId, [...(reservations.get(instance.reservationId) ?? []), instance]);
    const items = [...reservations].map(([id, members]) => `<item>${reservationBody(id, members)}</item>`).join('');
    const next = start + size < candidates.length ? `<nextToken>${start + size}</nextToken>` : '';
    return `<reservationSet>${items}</reservationSet>${next}`;
  }

  const handlers: Record<string, (params: Record<string, string>) => string> = {
    RunInstances: runInstances,
    TerminateInstances: terminateInstances,
    DescribeInstances: describeInstances,
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const params: Record<string, string> = {};
    for (const [key, value] of form) params[key] = value;
    const action = params.Action ?? '';
    calls.push({ action, params });
    const send = (status: number, xml: string) => {
      response.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': hex(16) });
      response.end(xml);
    };
    try {
      const index = failures.findIndex((failure) => failure.action === action);
      if (index >= 0) {
        const [failure] = failures.splice(index, 1);
        throw new Ec2Error(failure!.code, failure!.message, failure!.status);
      }
      const handler = handlers[action];
      if (!handler) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      send(200, responseXml(action, handler(params)));
    } catch (error) {
      if (error instanceof Ec2Error) send(error.status, errorXml(error.code, error.message));
      else send(500, errorXml('InternalError', (error as Error).message));
    }
  }

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    instances,
    calls,
    callsOf: (action) => calls.filter((call) => call.action === action),
    failNext(action, code, message, { status = 400, times = 1 } = {}) {
      for (let i = 0; i < times; i++) failures.push({ action, code, message, status });
    },
    lagNext(count) {
      lag = count;
    },
    setState(id, state) {
      const instance = instances.get(id);
      if (!instance) throw new Error(`fake EC2 has no instance ${id}`);
      instance.state = state;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
