/**
 * Simulated idle workers for W3, run as their own process so their cost is
 * not counted as the master's: opens COUNT WebSockets to the master, says a
 * valid `hello` on each, waits for `welcome`, then only heartbeats at the
 * interval the master asked for.
 *
 *   node dist/bench/idle-clients.js --url ws://HOST:PORT/worker --count 5000 \
 *     [--concurrency 200] [--name-prefix w] [--secret-env-prefix SECRET_W]
 *
 * Worker i is named `${name-prefix}${i}` and its secret is read from the
 * environment variable `${secret-env-prefix}${i}`. Reports JSON lines on
 * stdout: `{"event":"welcomed","count":N,"ms":T}` once all are welcomed,
 * `{"event":"closed",...}` for a connection the master drops later,
 * `{"event":"error",...}` (then exits 1) when one cannot connect. Exits when
 * its stdin closes (the benchmark ended, however it ended) or on SIGTERM.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, decodeMasterMessage, encodeControl } from '../src/protocol/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '200' },
    'name-prefix': { type: 'string', default: 'w' },
    'secret-env-prefix': { type: 'string', default: 'SECRET_W' },
  },
});

function report(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const url = values.url;
const count = Number(values.count);
const concurrency = Number(values.concurrency);
if (!url || !(count > 0) || !(concurrency > 0)) {
  process.stderr.write('usage: idle-clients --url ws://HOST:PORT/worker --count N [--concurrency N]\n');
  process.exit(2);
}

const info = { os: process.platform, arch: process.arch, cpus: 1, hostname: hostname(), agent_version: 'bench-idle-client', dimensions: {} };
const sockets: WebSocket[] = [];
let stopping = false;

/** Opens connection `i` and resolves once the master welcomed it. */
function connect(i: number): Promise<void> {
  const name = `${values['name-prefix']}${i}`;
  const secret = process.env[`${values['secret-env-prefix']}${i}`];
  if (!secret) return Promise.reject(new Error(`${values['secret-env-prefix']}${i} is not set`));
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url!, { perMessageDeflate: false });
    let welcomed = false;
    socket.once('open', () => {
      socket.send(encodeControl({ type: 'hello', protocol: PROTOCOL_VERSION, name, secret, info, held: [] }));
    });
    socket.once('message', (data: Buffer) => {
      const message = decodeMasterMessage(data.toString('utf8'));
      if (message.type !== 'welcome') {
        reject(new Error(`${name}: expected welcome, got ${message.type}${message.type === 'refused' ? `: ${message.message}` : ''}`));
        socket.terminate();
        return;
      }
      welcomed = true;
      sockets.push(socket);
      // Anything the master sends later (its heartbeats) is read and ignored.
      const beat = setInterval(() => socket.send(encodeControl({ type: 'heartbeat', t: Date.now() })), message.heartbeat_ms);
      socket.once('close', () => clearInterval(beat));
      resolve();
    });
    socket.on('error', (error) => {
      if (!welcomed) reject(new Error(`${name}: ${error.message}`));
    });
    socket.on('close', (code, reason) => {
      if (!welcomed) reject(new Error(`${name}: closed before welcome (${code} ${reason.toString()})`));
      else if (!stopping) report({ event: 'closed', name, code, reason: reason.toString() });
    });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  let next = 0;
  async function lane(): Promise<void> {
    while (next < count) await connect(next++);
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  report({ event: 'welcomed', count: sockets.length, ms: Math.round(performance.now() - started) });
}

function stop(): void {
  stopping = true;
  for (const socket of sockets) socket.terminate();
  process.exit(0);
}

process.stdin.on('end', stop).on('error', stop).resume();
process.once('SIGTERM', stop);
main().catch((error: unknown) => {
  report({ event: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
