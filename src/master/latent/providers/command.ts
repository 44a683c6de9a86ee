/**
 * The `command` provider: the operator's own programs start, stop, probe and
 * list instances (libvirt, a cloud CLI, a lab's power switch). Each is an
 * argument array run without a shell, so no value of ours is ever
 * interpolated into a command line; our values travel in the environment:
 *
 *     start   env: SHEPHERD_WORKER_TOKEN (and SHEPHERD_WORKER_SECRET), SHEPHERD_MASTER,
 *                  SHEPHERD_POOL, SHEPHERD_INSTANCE, SHEPHERD_TAG, SHEPHERD_DIMENSIONS (JSON)
 *             prints the instance id (its last non-empty line of stdout)
 *     stop    argument and env SHEPHERD_INSTANCE_ID; exit 0 also when already gone
 *     status  argument and env SHEPHERD_INSTANCE_ID; prints running, stopped or unknown
 *     list    env SHEPHERD_POOL, SHEPHERD_TAG; prints one id per line, or JSON lines {"id", "name"}
 *
 * The id is also appended as the last argument of stop and status, so a
 * plain command (`[virsh, destroy]`) works without a wrapper script. A
 * non-zero exit is an error naming the program and the last line of its
 * stderr; each call has a time limit, after which its process group is killed.
 */
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import {
  INSTANCE_STATUSES,
  instanceEnv,
  LatentProviderError,
  specProblem,
  type InstanceSpec,
  type InstanceStatus,
  type LatentProvider,
  type ListedInstance,
  type StartedInstance,
} from './provider.js';

type Operation = LatentProviderError['operation'];

/** Options of the command provider; one per pool, since each pool names its own programs. */
export interface CommandProviderOptions {
  /** The pool these programs serve (SHEPHERD_POOL for list, stop and status). */
  pool: string;
  /** This master's tag (`shepherd-master=ID`), in SHEPHERD_TAG: list must print only instances carrying it. */
  tag: string;
  /** Each operation's program and its arguments. */
  commands: Readonly<Record<Operation, readonly string[]>>;
  /** Time limit of one call. */
  timeoutMs?: number;
  /**
   * The programs' environment before the SHEPHERD_* variables. The master's
   * own by default: the operator's scripts need their cloud credentials.
   */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  clock?: Clock;
}

/** The most output kept from one call; a program printing more is cut, not buffered without end. */
const MAX_OUTPUT = 1024 * 1024;

/** The last non-empty line of a program's output, trimmed ('' when none). */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.at(-1) ?? '';
}

/** The instance id a start program printed, or an error message. */
export function parseStartOutput(stdout: string): { id: string } | { error: string } {
  const id = lastLine(stdout);
  if (!id) return { error: 'printed no instance id on stdout' };
  if (id.length > 500) return { error: `printed an instance id longer than 500 characters: "${id.slice(0, 40)}..."` };
  return { id };
}

const ListedLine = z.strictObject({ id: z.string().min(1).max(500), name: z.string().min(1).max(200).optional() });

/** The instances a list program printed (ids, or JSON lines {id, name}), or an error naming the line. */
export function parseListOutput(stdout: string): { instances: ListedInstance[] } | { error: string } {
  const instances: ListedInstance[] = [];
  const lines = stdout.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith('{')) {
      instances.push({ id: line });
      continue;
    }
    let parsed;
    try {
      parsed = ListedLine.safeParse(JSON.parse(line));
    } catch {
      return { error: `line ${index + 1} of stdout is not valid JSON: ${line.slice(0, 80)}` };
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { error: `line ${index + 1} of stdout: ${issue.path.join('.') || 'line'}: ${issue.message} (expected {"id": "...", "name": "..."})` };
    }
    instances.push(parsed.data.name === undefined ? { id: parsed.data.id } : parsed.data);
  }
  return { instances };
}

/** The status a status program printed, or an error message. */
export function parseStatusOutput(stdout: string): { status: InstanceStatus } | { error: string } {
  const word = lastLine(stdout);
  return (INSTANCE_STATUSES as readonly string[]).includes(word)
    ? { status: word as InstanceStatus }
    : { error: `printed "${word.slice(0, 80)}", expected one of ${INSTANCE_STATUSES.join(', ')}` };
}

/** Creates a command provider (see the file comment). */
export function createCommandProvider({
  pool,
  tag,
  commands,
  timeoutMs = 60_000,
  env = process.env,
  cwd,
  clock = systemClock,
}: CommandProviderOptions): LatentProvider {
  for (const operation of ['start', 'stop', 'status', 'list'] as const) {
    if (!commands[operation]?.length || !commands[operation][0]) {
      throw new LatentProviderError('command', operation, `commands.${operation} must name a program (an argument array)`);
    }
  }

  /** Runs one program to completion; resolves with its stdout, rejects with a one-line reason. */
  function run(operation: Operation, extraEnv: Record<string, string>, extraArgs: string[] = []): Promise<string> {
    const [program, ...args] = commands[operation];
    const fail = (message: string, cause?: unknown) =>
      new LatentProviderError('command', operation, `${program} ${message}`, { cause });
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const child = spawn(program!, [...args, ...extraArgs], {
        cwd,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own group, so a timeout kills what the script started as well.
        detached: true,
      });
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < MAX_OUTPUT) stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_OUTPUT) stderr += d;
      });
      const timer = clock.setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutMs);
      child.once('error', (error) => {
        timer.cancel();
        reject(fail(`could not be run: ${error.message}`, error));
      });
      child.once('close', (code, signal) => {
        timer.cancel();
        const said = lastLine(stderr);
        if (timedOut) reject(fail(`did not finish within ${timeoutMs} ms and was killed`));
        else if (code !== 0) {
          const how = code === null ? `was killed by ${signal}` : `exited with status ${code}`;
          reject(fail(said ? `${how}: ${said}` : `${how} (nothing on stderr)`));
        } else resolve(stdout);
      });
    });
  }

  const idEnv = (id: string) => ({ SHEPHERD_INSTANCE_ID: id, SHEPHERD_POOL: pool, SHEPHERD_TAG: tag });

  async function start(spec: InstanceSpec): Promise<StartedInstance> {
    const problem = specProblem(spec, tag) ?? (spec.pool === pool ? null : `spec.pool "${spec.pool}" is not this provider's pool "${pool}"`);
    if (problem) throw new LatentProviderError('command', 'start', problem);
    const parsed = parseStartOutput(await run('start', instanceEnv(spec)));
    if ('error' in parsed) throw new LatentProviderError('command', 'start', `${commands.start[0]} ${parsed.error}`);
    return { id: parsed.id };
  }

  async function stop(id: string): Promise<void> {
    await run('stop', idEnv(id), [id]);
  }

  async function status(id: string): Promise<InstanceStatus> {
    const parsed = parseStatusOutput(await run('status', idEnv(id), [id]));
    if ('error' in parsed) throw new LatentProviderError('command', 'status', `${commands.status[0]} ${parsed.error}`);
    return parsed.status;
  }

  async function list(): Promise<ListedInstance[]> {
    const parsed = parseListOutput(await run('list', { SHEPHERD_POOL: pool, SHEPHERD_TAG: tag }));
    if ('error' in parsed) throw new LatentProviderError('command', 'list', `${commands.list[0]} ${parsed.error}`);
    return parsed.instances.map((instance) => ({ pool, ...instance }));
  }

  return { kind: 'command', start, stop, status, list };
}
