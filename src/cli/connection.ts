/**
 * The options every client command shares (`--master`, `--token`, `--json`)
 * and turning them into a MasterConnection.
 */
import { Option, type Command } from 'commander';
import type { MasterConnection } from './client.js';
import { usageError } from './errors.js';

/** Where client commands look for the master when neither --master nor SHEPHERD_MASTER says. */
export const DEFAULT_MASTER = 'http://127.0.0.1:8010';

/** The shared options, as commander parses them. */
export interface ClientFlags {
  master: string;
  token?: string;
  json?: boolean;
}

/** Adds `--master`, `--token` and (unless the output is raw bytes) `--json` to a client command. */
export function withClientOptions(command: Command, options: { json?: boolean } = {}): Command {
  command
    .addOption(new Option('--master <url>', "the master's address").env('SHEPHERD_MASTER').default(DEFAULT_MASTER))
    .addOption(new Option('--token <token>', 'API token, needed for writes').env('SHEPHERD_API_TOKEN'));
  if (options.json !== false) command.option('--json', 'print JSON for scripts instead of text');
  return command;
}

/** The connection the flags describe; a malformed --master is a usage error. */
export function connectionFrom(flags: ClientFlags): MasterConnection {
  let url: URL;
  try {
    url = new URL(flags.master);
  } catch {
    throw usageError(`--master: expected a URL like ${DEFAULT_MASTER}, got "${flags.master}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--master: expected an http:// or https:// URL, got "${flags.master}"`);
  }
  return { url: url.toString().replace(/\/+$/, ''), token: flags.token || undefined };
}
