/**
 * `shepherd debug BUILD`: a shell on the worker that ran the build, in the
 * build's directory with its environment, through the master (the worker
 * opens no port). `shepherd debug BUILD -- CMD...` runs one command instead,
 * prints its output and exits with its status. The worker's own admin
 * decides whether anyone may; a refusal prints the worker's reason, exit 1.
 */
import { Option, type Command } from 'commander';
import { WebSocket, type RawData } from 'ws';
import type { DebugClientStatus } from '../../master/api/schemas.js';
import { parseId } from '../arguments.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { CliError, EXIT, usageError, type CliContext } from '../errors.js';
import { note } from '../output.js';
import { whoAmI } from '../who-am-i.js';

interface DebugFlags extends ClientFlags {
  user?: string;
}


/** The CLI's exit status for a remote exit: the command's own status (1 when it had none). */
export function exitStatusOfRemote(exitCode: number | null): number {
  if (exitCode === null) return EXIT.failure;
  return exitCode >= 0 && exitCode <= 255 ? exitCode : EXIT.failure;
}

/** The WebSocket address of a build's debug endpoint. */
export function debugSocketUrl(master: string, buildId: number, user: string): string {
  const url = new URL(`${master}/api/v1/builds/${buildId}/debug`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('user', user);
  return url.toString();
}

/** Registers `debug`. */
export function registerDebugCommand(program: Command, context: CliContext): void {
  withClientOptions(
    program
      .command('debug')
      .description("open a shell on the worker that ran a build (or run one command: debug BUILD -- CMD...)")
      .argument('<build>', 'build id', parseId)
      .argument('[command...]', 'run this command instead of a shell (after --)')
      .addOption(new Option('--user <name>', 'who you are, as the worker admin allows users').env('SHEPHERD_USER')),
    { json: false },
  ).action(async function debug(buildId: number, command: string[], flags: DebugFlags) {
    const conn = connectionFrom(flags);
    if (!conn.token) throw usageError("a debug session needs the master's API token: pass --token or set SHEPHERD_API_TOKEN");
    const user = flags.user || whoAmI() || 'operator';
    context.exitCode = await runSession({
      url: debugSocketUrl(conn.url, buildId, user),
      token: conn.token,
      ...(command.length > 0 ? { command } : {}),
    });
  });
}

/** Runs one session to its end; resolves with the exit status for the CLI. */
function runSession(options: { url: string; token: string; command?: string[] }): Promise<number> {
  const interactive = !options.command;
  const stdin = process.stdin;
  const stdout = process.stdout;
  const ws = new WebSocket(options.url, { headers: { authorization: `Bearer ${options.token}` }, perMessageDeflate: false });
  let rawMode = false;
  let result: number | CliError | undefined;

  const size = () => ({ cols: stdout.isTTY ? stdout.columns : 80, rows: stdout.isTTY ? stdout.rows : 24 });
  const onResize = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', ...size() }));
  };
  const onInput = (data: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: true });
  };
  /** Leaves the terminal as it was found, whatever happened. */
  const restore = () => {
    if (rawMode) stdin.setRawMode(false);
    rawMode = false;
    stdin.off('data', onInput);
    stdin.pause();
    stdout.off('resize', onResize);
  };

  return new Promise<number>((resolve, reject) => {
    ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        let message = `the master answered HTTP ${response.statusCode}`;
        let code: string | undefined;
        try {
          const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
          if (parsed.error?.message) ({ message, code } = { message: parsed.error.message, code: parsed.error.code });
        } catch {
          // Not our error shape.
        }
        result = new CliError(message, code ? { code } : {});
        ws.terminate();
      });
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'open', ...size(), ...(options.command ? { command: options.command } : {}) })));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      if (isBinary) {
        stdout.write(bytes);
        return;
      }
      const status = JSON.parse(bytes.toString('utf8')) as DebugClientStatus;
      switch (status.type) {
        case 'session':
          if (interactive) note(`shepherd: debug session ${status.session} on worker ${status.worker} (build ${status.build_id})`);
          return;
        case 'pending':
          note(`shepherd: ${status.note}`);
          return;
        case 'opened':
          if (status.note) note(`shepherd: ${status.note}`);
          if (interactive) {
            note(`shepherd: in ${status.cwd} on the worker; the worker ends the session after ${Math.round(status.max_ms / 60_000)} min; exit the shell to leave`);
            // Raw keys for a PTY on the worker; with pipes, the local terminal's own line editing and echo
            // send whole lines ending in \n, which a shell reading a pipe needs.
            if (stdin.isTTY && status.mode === 'pty') {
              stdin.setRawMode(true);
              rawMode = true;
            }
            stdin.on('data', onInput);
            stdin.resume();
            stdout.on('resize', onResize);
          }
          return;
        case 'refused':
          result = new CliError(`debug session refused: ${status.reason}`);
          return;
        case 'exit':
          if (status.reason) note(`shepherd: ${status.reason}`);
          result = exitStatusOfRemote(status.exit_code);
          return;
        case 'error':
          result = new CliError(status.message, { code: status.code });
          return;
      }
    });
    ws.on('error', (error: Error) => {
      result ??= new CliError(`cannot open a debug session through the master (${error.message}); is --master right?`, { cause: error });
    });
    ws.on('close', () => {
      restore();
      if (result === undefined) reject(new CliError('the master closed the debug session without saying why'));
      else if (typeof result === 'number') resolve(result);
      else reject(result);
    });
  });
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
