/**
 * `shepherd artifacts BUILD`: the files a build's steps sent back (skipped
 * ones with the reason); `--get NAME` downloads one, to stdout or `-o FILE`.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ArtifactJson } from '../../master/api/schemas.js';
import { formatSize } from '../../master/config/units.js';
import { parseId } from '../arguments.js';
import { downloadArtifact, listArtifacts } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { CliError, usageError } from '../errors.js';
import { note, printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';

interface ArtifactsFlags extends ClientFlags {
  get?: string;
  output?: string;
  step?: string;
  kind?: string;
}

/** The list as a table: one line per file, skipped ones saying why. */
export function formatArtifacts(artifacts: readonly ArtifactJson[]): string {
  if (artifacts.length === 0) return 'no files\n';
  return formatTable(
    ['name', 'step', 'kind', 'size', 'stored'],
    artifacts.map((a) => [a.name, `${a.step.index}:${a.step.name}`, a.kind, formatSize(a.size), a.skipped === null ? 'yes' : `skipped: ${a.skipped}`]),
  );
}

/** Registers `artifacts`. */
export function registerArtifactsCommand(program: Command): void {
  withClientOptions(
    program
      .command('artifacts')
      .description("list the files a build's steps sent back, or download one with --get")
      .argument('<build>', 'build id, as `shepherd builds` and `force --json` print it', parseId)
      .option('-g, --get <name>', 'download this file (its name as the list shows it) to stdout, or to -o FILE')
      .option('-o, --output <file>', 'with --get: write the file here instead of stdout')
      .option('-s, --step <step>', 'with --get: the step (name or index) when several sent a file of that name')
      .option('-k, --kind <kind>', 'with --get: artifact or test_results, when both kinds have a file of that name'),
  ).action(async function artifacts(buildId: number, flags: ArtifactsFlags) {
    const conn = connectionFrom(flags);
    if (flags.get === undefined) {
      if (flags.output !== undefined || flags.step !== undefined || flags.kind !== undefined) throw usageError('-o, --step and --kind go with --get NAME');
      const list = await listArtifacts(conn, buildId);
      if (flags.json) return printJson(list);
      return writeStdout(formatArtifacts(list.artifacts));
    }
    const name = flags.get.split('/').map(encodeURIComponent).join('/');
    const params = new URLSearchParams();
    if (flags.step !== undefined) params.set('step', flags.step);
    if (flags.kind !== undefined) params.set('kind', flags.kind);
    const query = params.size > 0 ? `?${params}` : '';
    const response = await downloadArtifact(conn, buildId, `${name}${query}`);
    const body = response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
    if (flags.output === undefined) {
      for await (const chunk of body) await writeStdout(chunk as Buffer);
      return;
    }
    await pipeline(body, createWriteStream(flags.output));
    note(`wrote ${flags.get} (${formatSize(Number(response.headers.get('content-length') ?? 0))}) to ${flags.output}`);
  });
}
