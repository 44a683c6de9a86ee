import { afterEach, describe, expect, it } from 'vitest';
import { addressOf, createSmtpMailer, displayNameOf, mailAddresses } from './mailer.js';
import { startSmtpServer, type TestSmtpServer } from './test-servers.js';

describe('addresses', () => {
  it('pulls the address out of "Name <mail>" and keeps bare addresses', () => {
    expect(addressOf('Ada Lovelace <ada@example.org>')).toBe('ada@example.org');
    expect(addressOf('"Lovelace, Ada" <Ada@Example.org>')).toBe('Ada@Example.org');
    expect(addressOf(' bob@example.org ')).toBe('bob@example.org');
  });

  it('drops what is not an address', () => {
    expect(addressOf('Ada Lovelace')).toBeNull();
    expect(addressOf('root <root@buildhost.(none)>')).toBeNull();
    expect(addressOf('nobody <>')).toBeNull();
    expect(addressOf('two@at@example.org')).toBeNull();
  });

  it('deduplicates case-insensitively, first spelling kept', () => {
    expect(mailAddresses(['Ada <Ada@example.org>', 'list@example.org', 'ada@EXAMPLE.org', 'Nameless', 'list@example.org'])).toEqual([
      'Ada@example.org',
      'list@example.org',
    ]);
  });

  it('finds the display name', () => {
    expect(displayNameOf('Ada Lovelace <ada@example.org>')).toBe('Ada Lovelace');
    expect(displayNameOf('"Ada" <ada@example.org>')).toBe('Ada');
    expect(displayNameOf('<ada@example.org>')).toBe('ada@example.org');
  });
});

describe('createSmtpMailer (real SMTP server)', () => {
  let smtp: TestSmtpServer | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  it('sends a plain-text mail with headers', async () => {
    smtp = await startSmtpServer();
    const mailer = createSmtpMailer({ smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' }, { env: {} });
    await mailer.send({ to: ['ada@example.org', 'bob@example.org'], subject: 'Hello', text: 'Line one\nünïcode ✓\n', headers: { 'X-Test': 'yes' } });
    const [mail] = await smtp.waitFor(1);
    expect(mail).toMatchObject({ from: 'shepherd@example.org', to: ['ada@example.org', 'bob@example.org'], user: null, subject: 'Hello' });
    expect(mail!.headers['x-test']).toBe('yes');
    expect(mail!.headers['auto-submitted']).toBe('auto-generated');
    expect(mail!.text).toContain('ünïcode ✓');
  });

  it('logs in when user_env names a user', async () => {
    smtp = await startSmtpServer({ user: 'mailer', password: 's3cret' });
    const mailer = createSmtpMailer(
      { smtp: smtp.url, from: 'shepherd@example.org', user_env: 'SMTP_USER', password_env: 'SMTP_PASSWORD' },
      { env: { SMTP_USER: 'mailer', SMTP_PASSWORD: 's3cret' } },
    );
    await mailer.send({ to: ['ada@example.org'], subject: 'S', text: 'T' });
    expect((await smtp.waitFor(1))[0]!.user).toBe('mailer');
  });

  it('marks a refused login as permanent', async () => {
    smtp = await startSmtpServer({ user: 'mailer', password: 'right' });
    const mailer = createSmtpMailer(
      { smtp: smtp.url, from: 'shepherd@example.org', user_env: 'U', password_env: 'P' },
      { env: { U: 'mailer', P: 'wrong' } },
    );
    await expect(mailer.send({ to: ['ada@example.org'], subject: 'S', text: 'T' })).rejects.toMatchObject({ permanent: true });
  });

  it('rejects (retryably) when nobody listens', async () => {
    const server = await startSmtpServer();
    const url = server.url;
    await server.close();
    const mailer = createSmtpMailer({ smtp: url, from: 'shepherd@example.org' }, { env: {} });
    const error = await mailer.send({ to: ['ada@example.org'], subject: 'S', text: 'T' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { permanent?: boolean }).permanent).toBeUndefined();
  });
});
