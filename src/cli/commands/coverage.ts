/**
 * `shepherd coverage`: each platform's live workers against the redundancy
 * wanted, its builders and last green build, and what kinds of workers the
 * farm lacks.
 */
import type { Command } from 'commander';
import type { CoverageJson } from '../../master/api/schemas.js';
import { getCoverage } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatAgo } from '../format.js';
import { printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';

/** Registers `coverage`. */
export function registerCoverageCommand(program: Command): void {
  withClientOptions(
    program.command('coverage').description('show platforms against the live workers wanted, and what workers are lacking'),
  ).action(async function coverage(flags: ClientFlags) {
    const document = await getCoverage(connectionFrom(flags));
    await (flags.json ? printJson(document) : writeStdout(formatCoverage(document, Date.now())));
  });
}

/** `dimension=value ...`, as a selector reads on one line. */
function selectText(select: Readonly<Record<string, string>>): string {
  return Object.entries(select).map(([key, value]) => `${key}=${value}`).join(' ');
}

/**
 * The coverage as people read it: a table of platforms (short ones marked),
 * then one line per kind of worker lacking and per builder nobody runs.
 */
export function formatCoverage(document: CoverageJson, now: number): string {
  const lines: string[] = [];
  if (document.platforms.length === 0) {
    lines.push('no platforms are configured: add them under platforms in the master config\n');
  } else {
    lines.push(
      formatTable(
        ['platform', 'tier', 'live', '', 'builders', 'last green'],
        document.platforms.map((p) => [
          p.name,
          String(p.tier),
          `${p.live.length}/${p.redundancy}`,
          p.short ? 'SHORT' : '',
          p.builders.join(', ') || '-',
          p.last_green ? `${p.last_green.builder} #${p.last_green.number} ${formatAgo(p.last_green.finished_at, now)}` : '-',
        ]),
      ),
    );
  }
  for (const l of document.lacking) {
    const more = l.need === 1 ? '1 more live worker' : `${l.need} more live workers`;
    lines.push(`lacking: ${more} with ${selectText(l.select)} (${l.platform}, tier ${l.tier})\n`);
  }
  for (const name of document.uncoverable_builders) {
    lines.push(`uncoverable: builder ${name}: no configured worker can run it\n`);
  }
  for (const name of document.unrun_builders) {
    lines.push(`not running: builder ${name}: all of its workers are disconnected\n`);
  }
  return lines.join('');
}
