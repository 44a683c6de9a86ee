/**
 * Sending mail. Everything in the master that mails people (build results,
 * missing workers) depends on the small `Mailer` interface; the SMTP
 * implementation over nodemailer is the one thin shell that knows about it.
 */
import nodemailer from 'nodemailer';
import type { Config } from '../config/schema.js';
import type { Secrets } from '../config/load.js';

/** One plain-text mail, already addressed. */
export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

/**
 * Something that delivers mail; rejects when the message was not accepted,
 * with `permanent: true` on the error when trying again cannot help.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** The `notify.mail` transport settings, as validated. */
export type MailTransportConfig = NonNullable<Config['notify']['mail']>;

// Deliveries are retried by the caller, so a dead server should fail fast
// instead of holding a delivery for nodemailer's default two minutes.
const CONNECTION_TIMEOUT_MS = 30_000;
const SOCKET_TIMEOUT_MS = 60_000;

/**
 * A Mailer over SMTP: `smtp://HOST:PORT` (STARTTLS when the server offers
 * it) or `smtps://HOST:PORT` (TLS from the start); it logs in when
 * `user_env` names a user.
 */
export function createSmtpMailer(mail: MailTransportConfig, secrets: Pick<Secrets, 'env'>): Mailer {
  const url = new URL(mail.smtp);
  const secure = url.protocol === 'smtps:';
  const user = mail.user_env ? secrets.env[mail.user_env] : undefined;
  const pass = mail.password_env ? secrets.env[mail.password_env] : undefined;
  const transport = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    secure,
    auth: user !== undefined ? { user, pass: pass ?? '' } : undefined,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: CONNECTION_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
  });
  return {
    async send(message) {
      if (message.to.length === 0) return;
      try {
        await transport.sendMail({
          from: mail.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          headers: { 'Auto-Submitted': 'auto-generated', ...message.headers },
        });
      } catch (error) {
        // A 5xx reply (unknown mailbox, message refused) will be the same next time.
        const code = (error as { responseCode?: unknown }).responseCode;
        if (error instanceof Error && typeof code === 'number' && code >= 500 && code < 600) {
          Object.assign(error, { permanent: true });
        }
        throw error;
      }
    },
  };
}

// Deliberately loose: refuse what is plainly not an address (a bare name,
// git's "user@host.(none)") rather than second-guess RFC 5322.
const ADDRESS_RE = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;.]+$/;

/** The address in `Name <mail>` or a bare `mail`; null when there is none worth mailing. */
export function addressOf(text: string): string | null {
  const bracketed = /<([^<>]*)>\s*$/.exec(text);
  const candidate = (bracketed ? bracketed[1]! : text).trim();
  return ADDRESS_RE.test(candidate) ? candidate : null;
}

/** The display name in `Name <mail>` (or the text itself without an address), for subjects like "by Ada". */
export function displayNameOf(text: string): string {
  const name = text.replace(/<[^<>]*>\s*$/, '').trim().replace(/^"(.*)"$/, '$1');
  return name || addressOf(text) || text.trim();
}

/** The addresses among `entries` (`Name <mail>` or bare), first spelling kept, duplicates dropped case-insensitively. */
export function mailAddresses(entries: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of entries) {
    const address = addressOf(entry);
    if (address === null || seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    out.push(address);
  }
  return out;
}
