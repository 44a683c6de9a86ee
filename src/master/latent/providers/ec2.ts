/**
 * The `ec2` provider: each instance is an Amazon EC2 instance started with
 * RunInstances from the pool's image. Its user data is a small shell script
 * (ec2UserData) that fetches the worker agent from the master it will connect
 * to (`/worker/shepherd-worker.mjs`), writes its worker.yml and runs it with
 * the one-time token, so the image needs only Node 20 and curl or wget.
 *
 * Every instance carries the tags Name, shepherd-master, shepherd-pool and
 * shepherd-worker: list() finds this master's instances by the first, and
 * reads the pool and worker name back from the others after a restart.
 * Instances shut down from inside terminate (nothing is left stopped and
 * billed for its disk), and stop() terminates them.
 *
 * EC2 is eventually consistent: for a few seconds after RunInstances, calls
 * naming the new instance may answer InvalidInstanceID.NotFound. For an
 * instance this provider started within `settleMs`, that answer means "not
 * visible yet", not "gone": status() says running and stop() retries, so an
 * early stop never leaks a paid instance.
 *
 * The token travels in the user data, which any process on the instance can
 * read from the metadata service: it is a one-time token, spent once the
 * agent connects.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2ClientConfig,
  type Instance,
  type RunInstancesCommandInput,
  type Tag,
} from '@aws-sdk/client-ec2';
import { stringify } from 'yaml';
import { systemClock, type Clock } from '../../clock.js';
import type { LatentPoolConfig } from '../../config/schema.js';
import {
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

/** A pool's `ec2` settings, as the config schema parsed them. */
export type Ec2Settings = NonNullable<LatentPoolConfig['ec2']>;

/** Options of the ec2 provider; defaults in the signature of createEc2Provider. */
export interface Ec2ProviderOptions {
  /** The pool's `ec2` settings. */
  settings: Ec2Settings;
  /** This master's tag (`shepherd-master=ID`): list() returns only instances carrying it. */
  tag: string;
  /** AWS credentials (default: the SDK's chain: environment, profile, instance role...); tests pass static ones. */
  credentials?: EC2ClientConfig['credentials'];
  /** Attempts per API call (the SDK's retry with backoff; RunInstances is made idempotent by its ClientToken). */
  maxAttempts?: number;
  /** Time limit of one HTTP request to the API. */
  requestTimeoutMs?: number;
  /** How long after a start NotFound means "not visible yet" (see the file comment). */
  settleMs?: number;
  /** Where the user data script puts the agent on the instance. */
  dir?: string;
  clock?: Clock;
}

/** The tag keys the provider writes, besides Name. */
export const EC2_TAGS = { master: 'shepherd-master', pool: 'shepherd-pool', worker: 'shepherd-worker' } as const;

/** Where the agent lives on the instance (the user data script runs as root). */
export const EC2_AGENT_DIR = '/var/lib/shepherd-worker';

/** The master id inside a tag `shepherd-master=ID`. */
export function masterIdOfTag(tag: string): string {
  const prefix = `${EC2_TAGS.master}=`;
  if (!tag.startsWith(prefix) || tag.length === prefix.length) throw new Error(`tag "${tag}" is not of the form ${prefix}ID`);
  return tag.slice(prefix.length);
}

/**
 * `value` as one POSIX shell word: single-quoted, each `'` written as `'\''`.
 * Nothing inside single quotes is special to sh, so any value (quotes, `$()`,
 * backquotes, newlines) comes out as itself. NUL cannot be in a shell word.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot contain a NUL character');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The user data script of an instance: fetch the agent from the master
 * (retrying while the network or the master comes up), write worker.yml,
 * run the agent with the token. Every value of ours is shell-quoted.
 */
export function ec2UserData(spec: InstanceSpec, { dir = EC2_AGENT_DIR }: { dir?: string } = {}): string {
  const config = stringify({ master: spec.master, name: spec.name, secret_env: 'SHEPHERD_WORKER_SECRET', dir: 'work', dimensions: { ...spec.dimensions } });
  return [
    '#!/bin/sh',
    '# Shepherd latent worker: fetch the agent from the master and run it.',
    'set -eu',
    'umask 077',
    `dir=${shellQuote(dir)}`,
    `url=${shellQuote(workerBundleUrl(spec.master))}`,
    'mkdir -p "$dir/work"',
    'cd "$dir"',
    ': "${HOME:=$dir}"',
    'export HOME',
    'fetch() {',
    '  if command -v curl >/dev/null 2>&1; then curl -fsS -o shepherd-worker.mjs "$url"',
    '  else wget -q -O shepherd-worker.mjs "$url"',
    '  fi',
    '}',
    'tries=0',
    'until fetch; do',
    '  tries=$((tries + 1))',
    '  if [ "$tries" -ge 60 ]; then echo "shepherd: could not fetch $url" >&2; exit 1; fi',
    '  sleep 5',
    'done',
    `printf '%s' ${shellQuote(config)} > worker.yml`,
    `SHEPHERD_WORKER_SECRET=${shellQuote(spec.token)}`,
    'export SHEPHERD_WORKER_SECRET',
    'exec node shepherd-worker.mjs --config worker.yml',
    '',
  ].join('\n');
}

/** The RunInstances request for a spec (pure, so the request is checked without a network). */
export function runInstancesInput(settings: Ec2Settings, spec: InstanceSpec, userData: string): RunInstancesCommandInput {
  const tags: Tag[] = [
    { Key: 'Name', Value: spec.name },
    { Key: EC2_TAGS.master, Value: masterIdOfTag(spec.tag) },
    { Key: EC2_TAGS.pool, Value: spec.pool },
    { Key: EC2_TAGS.worker, Value: spec.name },
  ];
  return {
    MinCount: 1,
    MaxCount: 1,
    ImageId: settings.image,
    InstanceType: settings.instance_type as RunInstancesCommandInput['InstanceType'],
    ...(settings.subnet === undefined ? {} : { SubnetId: settings.subnet }),
    ...(settings.security_groups.length === 0 ? {} : { SecurityGroupIds: [...settings.security_groups] }),
    ...(settings.spot
      ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } }
      : {}),
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
    UserData: Buffer.from(userData, 'utf8').toString('base64'),
  };
}

/** What an EC2 instance state means to the master. */
export function ec2Status(stateName: string | undefined): InstanceStatus {
  if (stateName === 'pending' || stateName === 'running') return 'running';
  if (stateName === 'shutting-down' || stateName === 'terminated' || stateName === 'stopping' || stateName === 'stopped') return 'stopped';
  return 'unknown';
}

/** A found instance as list() returns it: pool and name read back from its tags. */
export function listedInstance(instance: Instance): ListedInstance | null {
  if (!instance.InstanceId) return null;
  const tags = new Map((instance.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  const listed: ListedInstance = { id: instance.InstanceId };
  const name = tags.get(EC2_TAGS.worker) ?? tags.get('Name');
  if (name) listed.name = name;
  const pool = tags.get(EC2_TAGS.pool);
  if (pool) listed.pool = pool;
  if (instance.LaunchTime) listed.startedAt = instance.LaunchTime.getTime();
  return listed;
}

/** The AWS error code of a failed call (`InvalidInstanceID.NotFound`, ...), or undefined. */
function errorCode(error: unknown): string | undefined {
  const e = error as { Code?: unknown; name?: unknown };
  if (typeof e?.Code === 'string') return e.Code;
  return typeof e?.name === 'string' && e.name !== 'Error' ? e.name : undefined;
}

/** `CODE: message` of a failed call, for error messages. */
export function describeAwsError(error: unknown): string {
  const code = errorCode(error);
  const message = (error as Error)?.message ?? String(error);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}

const NOT_FOUND = 'InvalidInstanceID.NotFound';
const MALFORMED = 'InvalidInstanceID.Malformed';

/** Creates an ec2 provider for one pool (see the file comment). */
export function createEc2Provider({
  settings,
  tag,
  credentials,
  maxAttempts = 3,
  requestTimeoutMs = 30_000,
  settleMs = 120_000,
  dir = EC2_AGENT_DIR,
  clock = systemClock,
}: Ec2ProviderOptions): LatentProvider {
  const masterId = masterIdOfTag(tag);
  const client = new EC2Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    maxAttempts,
    requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: Math.min(requestTimeoutMs, 10_000) },
  });
  /** Instances started by this provider, with when: NotFound for them is eventual consistency while recent. */
  const started = new Map<string, number>();

  const fail = (operation: Operation, what: string, error: unknown) =>
    new LatentProviderError('ec2', operation, `${what}: ${describeAwsError(error)}`, { cause: error });

  const settling = (id: string) => {
    const at = started.get(id);
    if (at === undefined) return false;
    if (clock.now() - at < settleMs) return true;
    started.delete(id);
    return false;
  };

  const pause = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

  async function start(spec: InstanceSpec): Promise<StartedInstance> {
    const problem = specProblem(spec, tag);
    if (problem) throw new LatentProviderError('ec2', 'start', problem);
    let input: RunInstancesCommandInput;
    try {
      input = runInstancesInput(settings, spec, ec2UserData(spec, { dir }));
    } catch (error) {
      throw new LatentProviderError('ec2', 'start', (error as Error).message, { cause: error });
    }
    let id: string | undefined;
    try {
      const reservation = await client.send(new RunInstancesCommand(input));
      id = reservation.Instances?.[0]?.InstanceId;
    } catch (error) {
      throw fail('start', `RunInstances of ${settings.instance_type} from ${settings.image} in ${settings.region}`, error);
    }
    if (!id) throw new LatentProviderError('ec2', 'start', 'RunInstances answered without an instance id');
    started.set(id, clock.now());
    return { id };
  }

  async function stop(id: string): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
        started.delete(id);
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === NOT_FOUND && settling(id)) {
          await pause(delay);
          continue;
        }
        if (code === NOT_FOUND) return;
        throw fail('stop', `TerminateInstances ${id}`, error);
      }
    }
  }

  async function status(id: string): Promise<InstanceStatus> {
    let instance: Instance | undefined;
    try {
      const answer = await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      instance = answer.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
    } catch (error) {
      const code = errorCode(error);
      if (code === NOT_FOUND) return settling(id) ? 'running' : 'unknown';
      if (code === MALFORMED) return 'unknown';
      throw fail('status', `DescribeInstances ${id}`, error);
    }
    if (!instance) return settling(id) ? 'running' : 'unknown';
    return ec2Status(instance.State?.Name);
  }

  async function list(): Promise<ListedInstance[]> {
    const found: ListedInstance[] = [];
    let nextToken: string | undefined;
    do {
      let answer;
      try {
        answer = await client.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${EC2_TAGS.master}`, Values: [masterId] },
              { Name: 'instance-state-name', Values: ['pending', 'running'] },
            ],
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
        );
      } catch (error) {
        throw fail('list', `DescribeInstances tagged ${tag}`, error);
      }
      for (const reservation of answer.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const listed = listedInstance(instance);
          if (listed) found.push(listed);
        }
      }
      nextToken = answer.NextToken || undefined;
    } while (nextToken !== undefined);
    return found;
  }

  return { kind: 'ec2', start, stop, status, list };
}
