/**
 * `shepherd applications`: the operators' side of joining the farm. List
 * the workers volunteers offered, with what each would cover, and approve
 * (the worker is created) or decline (the volunteer is told why). All need
 * the API token: applications carry volunteers' contacts.
 */
import { Option, type Command } from 'commander';
import type { ApplicationJson } from '../../master/api/schemas.js';
import { parseId, parseInteger } from '../arguments.js';
import { approveApplication, declineApplication, listApplications } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { usageError } from '../errors.js';
import { formatAgo } from '../format.js';
import { printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';
import { whoAmI } from '../who-am-i.js';
import { dimensionsText } from './join.js';

const STATES = ['pending', 'approved', 'declined'] as const;

interface ListFlags extends ClientFlags {
  state?: (typeof STATES)[number];
}

interface ApproveFlags extends ClientFlags {
  name?: string;
  maxBuilds?: number;
}

interface DeclineFlags extends ClientFlags {
  reason: string;
}

/** The `shepherd applications` table: newest first, as the API answers. */
export function formatApplicationsTable(applications: readonly ApplicationJson[], now: number, state?: string): string {
  if (applications.length === 0) return `no ${state ? `${state} ` : ''}applications\n`;
  return formatTable(
    ['id', 'name', 'dimensions', 'contact', 'submitted', 'state', 'platforms', 'builders'],
    applications.map((a) => [
      String(a.id),
      a.worker !== null && a.worker !== a.name ? `${a.name} → ${a.worker}` : a.name,
      dimensionsText(a.dimensions),
      a.contact,
      formatAgo(a.submitted_at, now),
      a.state,
      a.platforms.join(', ') || '-',
      a.builders.join(', ') || '-',
    ]),
  );
}

/** What `approve` and `decline` print: the decision, and what happens next. */
export function formatDecision(application: ApplicationJson): string {
  if (application.state === 'approved') {
    return (
      `application ${application.id} approved: worker "${application.worker}" created\n` +
      `its volunteer collects the secret with: shepherd join --status ${application.id} --token TOKEN\n`
    );
  }
  return `application ${application.id} declined: ${application.reason ?? ''}\n`;
}

/** Registers `applications`, `applications approve` and `applications decline`. */
export function registerApplicationsCommand(program: Command): void {
  const applications = withClientOptions(
    program
      .command('applications')
      .description('list workers offered by volunteers (needs the API token); approve or decline them')
      // `shepherd applications approve 3 --master URL`: the subcommand's options are its own.
      .enablePositionalOptions()
      .addOption(new Option('--state <state>', 'only applications in this state').choices(STATES)),
  ).action(async function list(flags: ListFlags) {
    const found = await listApplications(connectionFrom(flags), flags.state);
    await (flags.json ? printJson({ applications: found }) : writeStdout(formatApplicationsTable(found, Date.now(), flags.state)));
  });

  withClientOptions(
    applications
      .command('approve')
      .description('approve an application: the worker is created and its volunteer can collect its secret')
      .argument('<id>', 'the application id', parseId)
      .option('--name <name>', 'create the worker under another name than proposed')
      .option('--max-builds <n>', 'builds it runs at once (default: what the volunteer offered)', parseInteger),
  ).action(async function approve(id: number, flags: ApproveFlags) {
    if (flags.maxBuilds !== undefined && flags.maxBuilds < 1) throw usageError(`--max-builds: expected at least 1, got ${flags.maxBuilds}`);
    const decided = await approveApplication(connectionFrom(flags), id, {
      by: whoAmI() ?? 'operator',
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags.maxBuilds !== undefined ? { max_builds: flags.maxBuilds } : {}),
    });
    await (flags.json ? printJson(decided) : writeStdout(formatDecision(decided)));
  });

  withClientOptions(
    applications
      .command('decline')
      .description('decline an application; the reason is told to its volunteer')
      .argument('<id>', 'the application id', parseId)
      .requiredOption('--reason <text>', 'why, told to the volunteer'),
  ).action(async function decline(id: number, flags: DeclineFlags) {
    const decided = await declineApplication(connectionFrom(flags), id, { by: whoAmI() ?? 'operator', reason: flags.reason });
    await (flags.json ? printJson(decided) : writeStdout(formatDecision(decided)));
  });
}
