/**
 * `shepherd join`: a volunteer offers a machine to the farm, then follows
 * the application with the token it was given. Once approved, the first
 * `--status` call shows the new worker's secret (the only time anyone sees
 * it), the command that starts the agent and its config file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { Option, type Command } from 'commander';
import type { ApplicationStatusJson, JoinReplyJson } from '../../master/api/schemas.js';
import { collectDimension, parseId, parseMaxBuilds } from '../arguments.js';
import { getApplicationStatus, submitApplication, type MasterConnection } from '../client.js';
import { connectionFrom } from '../connection.js';
import { CliError, EXIT, usageError, type CliContext } from '../errors.js';
import { formatTimestamp } from '../format.js';
import { note, printJson, writeStdout } from '../output.js';

/** How often `--wait` asks whether the operators decided. */
export const JOIN_POLL_INTERVAL_MS = 5_000;

interface JoinFlags {
  master: string;
  json?: boolean;
  name?: string;
  contact?: string;
  dimension?: Record<string, string>;
  maxBuilds?: number;
  notes?: string;
  detect: boolean;
  wait?: boolean;
  status?: number;
  token?: string;
  writeConfig?: string;
}

/** The dimensions proposed: the detected ones (unless --no-detect), overridden by --dimension. */
export function joinDimensions(detected: Readonly<Record<string, string>> | null, given: Readonly<Record<string, string>>): Record<string, string> {
  const dimensions = { ...(detected ?? {}), ...given };
  if (Object.keys(dimensions).length === 0) {
    throw usageError('--no-detect: give the machine\'s dimensions with --dimension KEY=VALUE (builders select workers on them)');
  }
  return dimensions;
}

/**
 * This machine's `os` and `arch`, named as the worker agent reports them
 * (`x64` → `x86_64`): the agent's own normalisation, so an approved worker's
 * dimensions match what it says when it connects.
 */
async function detectDimensions(): Promise<Record<string, string>> {
  const { normalizeArch } = await import('../../worker/info.js');
  return { os: process.platform, arch: normalizeArch(arch()) };
}

/** `key=value ...` on one line. */
export function dimensionsText(dimensions: Readonly<Record<string, string>>): string {
  return Object.entries(dimensions).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** A shell word: quoted only when it needs to be. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The command that shows the application's outcome later. */
export function statusCommand(master: string, id: number, token: string): string {
  return `shepherd join --master ${shellWord(master)} --status ${id} --token ${token}`;
}

/** What `shepherd join` prints once the application is in: its id, the token (once), and how to follow it. */
export function formatJoinReply(reply: JoinReplyJson, master: string): string {
  const a = reply.application;
  const lines = [
    `application ${a.id}: worker "${a.name}" (${dimensionsText(a.dimensions)}) offered; waiting for the operators to decide\n`,
  ];
  if (a.builders.length > 0) lines.push(`it could run builders: ${a.builders.join(', ')}\n`);
  if (a.platforms.length > 0) lines.push(`it would count for platforms: ${a.platforms.join(', ')}\n`);
  if (a.builders.length === 0) lines.push('no builder selects these dimensions yet: the operators may ask you about them\n');
  lines.push(
    `token: ${reply.token}  (keep it: shown only now)\n`,
    'see the outcome (and, once approved, the worker\'s secret) with:\n',
    `  ${statusCommand(master, a.id, reply.token)}\n`,
  );
  return lines.join('');
}

/** Where the config was written, when it was. */
export interface WrittenConfig {
  path: string;
}

/**
 * An application's state as the volunteer reads it. Approved, first call:
 * the secret, the command and the config (the file named when written);
 * approved later: when the secret was collected and how to get another.
 */
export function formatJoinStatus(status: ApplicationStatusJson, written: WrittenConfig | null = null): string {
  switch (status.state) {
    case 'pending':
      return `application ${status.id}: pending; the operators have not decided yet\n`;
    case 'declined':
      return `application ${status.id}: declined: ${status.reason ?? 'no reason given'}\n`;
    case 'approved':
      break;
  }
  const worker = status.worker ?? '?';
  if (status.secret === null) {
    const when = status.secret_collected_at === null ? 'earlier' : `at ${formatTimestamp(status.secret_collected_at)}`;
    return (
      `application ${status.id}: approved: worker "${worker}"\n` +
      `its secret was already collected ${when} and is never shown again; ` +
      'to get a new one, an operator must retire the worker and approve a new application\n'
    );
  }
  const command = written && status.command ? status.command.replace(/--config worker\.yml$/m, `--config ${shellWord(written.path)}`) : status.command;
  const lines = [
    `application ${status.id}: approved: worker "${worker}"\n`,
    `secret: ${status.secret}  (keep it: shown only now)\n`,
  ];
  if (command) lines.push('start the agent with:\n', ...command.split('\n').map((l) => `  ${l}\n`));
  if (written) lines.push(`config written to ${written.path}\n`);
  else if (status.config) lines.push('save this as worker.yml:\n', ...status.config.trimEnd().split('\n').map((l) => `  ${l}\n`));
  return lines.join('');
}

/** Exit status for an application's state: declined is a failure, the rest succeed. */
export function exitStatusForApplication(status: ApplicationStatusJson): number {
  return status.state === 'declined' ? EXIT.failure : EXIT.ok;
}

/** Asks until the operators decide; `sleep` is injected so tests need not wait 5 s. */
export async function waitForDecision(
  check: () => Promise<ApplicationStatusJson>,
  options: { intervalMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<ApplicationStatusJson> {
  const { intervalMs = JOIN_POLL_INTERVAL_MS, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) } = options;
  for (;;) {
    const status = await check();
    if (status.state !== 'pending') return status;
    await sleep(intervalMs);
  }
}

/** Flags that belong to one use only (offer vs. follow): a usage error names the mix-up. */
function checkFlags(flags: JoinFlags): void {
  if (flags.status !== undefined) {
    if (!flags.token) throw usageError('--status needs --token TOKEN: the token `shepherd join` printed with the application');
    for (const [given, flag] of [[flags.name, '--name'], [flags.contact, '--contact'], [flags.dimension, '--dimension'], [flags.maxBuilds, '--max-builds'], [flags.notes, '--notes']] as const) {
      if (given !== undefined) throw usageError(`${flag} cannot be used with --status: it belongs to offering a worker`);
    }
    if (!flags.detect) throw usageError('--no-detect cannot be used with --status: it belongs to offering a worker');
    return;
  }
  if (flags.token) throw usageError('--token needs --status ID: offering a worker needs no token');
  if (!flags.name) throw usageError('join: give --name NAME (the worker name you propose), or --status ID --token TOKEN');
  if (!flags.contact) throw usageError('join: give --contact "Name <mail>": who runs the machine, told of the decision');
  if (flags.writeConfig && !flags.wait) throw usageError('--write-config needs --status ID --token TOKEN (or --wait): the config comes once approved');
}

/** Refuses, before the secret is collected, to write over an existing file. */
function checkConfigTarget(path: string | undefined): void {
  if (path && existsSync(path)) throw new CliError(`--write-config: ${path} already exists; choose another file (it is never overwritten)`);
}

/** Prints a status (writing the config on first approval) and sets the exit status. */
async function report(status: ApplicationStatusJson, flags: JoinFlags, context: CliContext, reply?: JoinReplyJson): Promise<void> {
  let written: WrittenConfig | null = null;
  let writeError: unknown;
  if (flags.writeConfig) {
    if (status.state === 'approved' && status.secret !== null && status.config) {
      try {
        writeFileSync(flags.writeConfig, status.config, { flag: 'wx', mode: 0o600 });
        written = { path: flags.writeConfig };
      } catch (error) {
        // The secret is shown now or never: print the config rather than lose it.
        writeError = error;
      }
    } else if (status.state === 'approved') {
      writeError = new Error('no config to write: it came with the secret, which was already collected');
    }
  }
  if (flags.json) await printJson(reply ? { ...reply, status } : status);
  else await writeStdout(formatJoinStatus(status, written));
  context.exitCode = exitStatusForApplication(status);
  if (writeError) {
    throw new CliError(`--write-config: ${flags.writeConfig} not written: ${(writeError as Error).message}`, { cause: writeError });
  }
}

/** Registers `join`. */
export function registerJoinCommand(program: Command, context: CliContext): void {
  program
    .command('join')
    .description('offer this machine to the farm as a worker, or follow your application')
    .addOption(new Option('--master <url>', "the master's address").env('SHEPHERD_MASTER').makeOptionMandatory())
    .option('--name <name>', 'the worker name you propose')
    .option('--contact <contact>', 'who runs the machine, "Name <mail>": told of the decision and when the worker goes missing')
    .option('--dimension <key=value>', 'a dimension of the machine (repeatable), over the detected os and arch', collectDimension)
    .option('--max-builds <n>', 'builds it runs at once (default 1)', parseMaxBuilds)
    .option('--notes <text>', 'anything the operators should know (where it runs, for how long)')
    .option('--no-detect', "do not propose this machine's detected os and arch")
    .option('--wait', 'wait for the decision (checks every 5s), after offering or with --status')
    .option('--status <id>', 'show where application ID stands (with --token)', parseId)
    .option('--token <token>', 'the token `shepherd join` printed with the application')
    .option('--write-config <file>', 'approved: write the worker config to FILE (mode 0600; never overwrites)')
    .option('--json', 'print JSON for scripts instead of text')
    .action(async function join(flags: JoinFlags) {
      checkFlags(flags);
      checkConfigTarget(flags.writeConfig);
      const conn = connectionFrom({ master: flags.master });
      if (flags.status !== undefined) {
        const id = flags.status;
        const check = () => getApplicationStatus({ ...conn, token: flags.token }, id);
        if (flags.wait) note(`waiting for the operators to decide on application ${id} (Ctrl-C stops waiting; the application stays)`);
        await report(flags.wait ? await waitForDecision(check) : await check(), flags, context);
        return;
      }
      await offer(conn, flags, context);
    });
}

async function offer(conn: MasterConnection, flags: JoinFlags, context: CliContext): Promise<void> {
  const dimensions = joinDimensions(flags.detect ? await detectDimensions() : null, flags.dimension ?? {});
  const reply = await submitApplication(conn, {
    name: flags.name!,
    dimensions,
    contact: flags.contact!,
    ...(flags.maxBuilds !== undefined ? { max_builds: flags.maxBuilds } : {}),
    ...(flags.notes !== undefined ? { notes: flags.notes } : {}),
  });
  if (!flags.wait) {
    await (flags.json ? printJson(reply) : writeStdout(formatJoinReply(reply, conn.url)));
    return;
  }
  if (!flags.json) await writeStdout(formatJoinReply(reply, conn.url));
  note(`waiting for the operators to decide on application ${reply.application.id} (Ctrl-C stops waiting; the application stays)`);
  const status = await waitForDecision(() => getApplicationStatus({ ...conn, token: reply.token }, reply.application.id));
  await report(status, flags, context, flags.json ? reply : undefined);
}
