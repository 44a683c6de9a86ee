/**
 * Real servers on 127.0.0.1 for notifier tests: an SMTP server that keeps
 * every message it accepts, and an HTTP server that records requests and
 * answers with a scripted status. Tests wait on them instead of sleeping.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the SMTP server received it, headers unfolded and the body decoded. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** The authenticated user, if the client logged in. */
  user: string | null;
  headers: Record<string, string>;
  subject: string;
  text: string;
}

/** A running SMTP server. */
export interface TestSmtpServer {
  url: string;
  messages: ReceivedMail[];
  /** Resolves once `count` messages have arrived. */
  waitFor(count: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Decodes a quoted-printable body (nodemailer's choice for long or non-ASCII lines). */
function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Splits a raw RFC 5322 message (bytes as a latin1 string) into lower-cased headers and decoded text. */
export function parseRawMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  // `raw` holds the bytes as latin1 characters: decode the body to UTF-8 once, after the transfer encoding.
  let body = raw.slice(split + 4);
  const encoding = headers['content-transfer-encoding']?.toLowerCase();
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(body);
  else if (encoding === 'base64') body = Buffer.from(body, 'base64').toString('utf8');
  else body = Buffer.from(body, 'latin1').toString('utf8');
  return { headers, text: body.replace(/\r\n/g, '\n') };
}

/** Starts an SMTP server (no TLS; logging in is optional and any password for `user` is accepted when given). */
export async function startSmtpServer(options: { user?: string; password?: string } = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  let waiters: { count: number; resolve: (m: ReceivedMail[]) => void }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { headers, text } = parseRawMail(Buffer.concat(chunks).toString('latin1'));
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : null,
          headers,
          subject: headers.subject ?? '',
          text,
        });
        waiters = waiters.filter((w) => (messages.length >= w.count ? (w.resolve(messages.slice()), false) : true));
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(count) {
      if (messages.length >= count) return Promise.resolve(messages.slice());
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A request the HTTP server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with. */
  status: number;
}

/** A running HTTP server. */
export interface TestHttpServer {
  url: string;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have been answered. */
  waitFor(count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Starts an HTTP server answering each request with the next status from `statuses` (the last one repeats). */
export async function startHttpServer(statuses: number[] = [200]): Promise<TestHttpServer> {
  const requests: ReceivedRequest[] = [];
  let waiters: { count: number; resolve: (r: ReceivedRequest[]) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = statuses[Math.min(requests.length, statuses.length - 1)]!;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(status < 300 ? '{}' : '{"message":"scripted failure"}');
      waiters = waiters.filter((w) => (requests.length >= w.count ? (w.resolve(requests.slice()), false) : true));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitFor(count) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
