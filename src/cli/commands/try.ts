/**
 * `shepherd try --builder B`: build local changes on the farm without
 * pushing them. The patch is the checkout's diff against where it forked
 * from its upstream (or a file); the master queues one request per builder,
 * each applying the patch after its checkout. With --wait, follow every
 * build to its end and exit 0 only if all succeeded.
 */
import type { Command } from 'commander';
import { formatSize } from '../../master/config/units.js';
import { collectName } from '../arguments.js';
import { formatBuildSummary } from '../build-table.js';
import { submitTry } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { usageError, type CliContext } from '../errors.js';
import { shortRevision } from '../format.js';
import { note, printJson, writeStdout } from '../output.js';
import { gitAuthor, resolveTryPatch, type TryPatch } from '../patch-source.js';
import { exitStatusForOutcomes, subscribeForWaits, waitForRequests } from '../wait-for-requests.js';

interface TryFlags extends ClientFlags {
  builder: string[];
  diff?: string;
  base?: string;
  branch?: string;
  scheduler?: string;
  who?: string;
  comment?: string;
  wait?: boolean;
}


/** The progress line before the upload: how big, from where, on what. */
function describePatch(patch: TryPatch): string {
  const on = patch.baseRevision ? shortRevision(patch.baseRevision) : 'the branch head';
  const branch = patch.branch ? ` of ${patch.branch}` : '';
  return `sending ${formatSize(patch.diff.length)} from ${patch.origin}, to apply on ${on}${branch}`;
}

/** Registers `try`. */
export function registerTryCommand(program: Command, context: CliContext): void {
  withClientOptions(
    program
      .command('try')
      .description('build your local changes (or a patch file) on builders, without pushing them')
      .requiredOption('-b, --builder <name>', 'builder to try on, repeatable', collectName)
      .option('--diff <file>', "a patch file to send (`-`: stdin) instead of the checkout's diff")
      .option('--base <rev>', 'revision the patch applies on (default: where HEAD forked from its upstream; with --diff, the branch head)')
      .option('--branch <name>', "branch to build on (default: the upstream's branch)")
      .option('--scheduler <name>', 'the try scheduler to use (default: the only one)')
      .option('--who <contact>', 'who sends it, "Name <mail>" (default: git user.name and user.email)')
      .option('--comment <text>', 'what the patch is about, shown with the builds')
      .option('-w, --wait', 'wait for every build to finish, printing progress on stderr'),
  ).action(async function tryPatch(flags: TryFlags) {
    const conn = connectionFrom(flags);
    if (flags.who !== undefined && flags.who.trim() === '') throw usageError('--who: expected "Name <mail>", got ""');
    const cwd = process.cwd();
    const patch = await resolveTryPatch({ cwd, diff: flags.diff, base: flags.base, branch: flags.branch });
    const author = flags.who ?? (await gitAuthor(cwd));
    if (!author) throw usageError('cannot tell who you are: pass --who "Name <mail>" or set git config user.name and user.email');
    note(describePatch(patch));
    // Subscribe before queueing, so not even a fast build's events are missed.
    const subscriptions = flags.wait ? await subscribeForWaits(conn, flags.builder.length) : [];
    let answer;
    try {
      answer = await submitTry(conn, {
        builders: flags.builder,
        patch_base64: patch.diff.toString('base64'),
        base_revision: patch.baseRevision,
        author,
        ...(flags.scheduler !== undefined ? { scheduler: flags.scheduler } : {}),
        ...(patch.branch !== undefined ? { branch: patch.branch } : {}),
        ...(flags.comment !== undefined ? { comment: flags.comment } : {}),
      });
    } catch (error) {
      for (const s of subscriptions) s.close();
      throw error;
    }
    const queued = answer.requests.map((r) => `${r.builder} (request ${r.id})`).join(', ');
    note(`patch ${answer.patch.id} queued for ${queued}`);
    if (!flags.wait) {
      await (flags.json ? printJson(answer) : writeStdout(answer.requests.map((r) => `${r.id}\n`).join('')));
      return;
    }
    const outcomes = await waitForRequests(conn, answer.requests, { subscriptions, progress: note });
    context.exitCode = exitStatusForOutcomes(outcomes);
    if (flags.json) {
      await printJson({
        patch: answer.patch,
        builds: outcomes.flatMap((o) => (o.kind === 'build' ? [o.build] : [])),
        cancelled: outcomes.flatMap((o) => (o.kind === 'cancelled' ? [o.request] : [])),
      });
      return;
    }
    const now = Date.now();
    const texts = outcomes.map((o) =>
      o.kind === 'build'
        ? formatBuildSummary(o.build, now)
        : `${o.request.builder}: request ${o.request.id} was cancelled before it started\n`,
    );
    await writeStdout(texts.join('\n'));
  });
}
