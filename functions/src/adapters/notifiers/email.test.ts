import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingMessage } from '../../ports/notifier.js';
import { parseCidrs } from '../../core/cidr.js';
import { createEgressGuard } from '../egress/egress-guard.js';
import { EmailNotifier } from './email.js';

/** The receivers here are on loopback, which alert channels may reach only when allowed. */
const loopback = createEgressGuard({ allow: parseCidrs('127.0.0.0/8') });

const PASSWORD = 'S3cret:p@ss/word';
const ENCODED_PASSWORD = encodeURIComponent(PASSWORD);

/** What the server saw: each parsed message with its envelope and the authenticated user, if any. */
let received: { mail: ParsedMail; rcpt: string[]; user?: string }[] = [];
/** Per-recipient answer: undefined accepts, a code rejects with it. */
let rejectRcpt: (address: string) => number | undefined = () => undefined;
let open = 0;
let port = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  authMethods: ['PLAIN', 'LOGIN'],
  allowInsecureAuth: true,
  logger: false,
  closeTimeout: 1000,
  onAuth(auth, _session, callback) {
    if (auth.username === 'mailer' && auth.password === PASSWORD) return callback(null, { user: 'mailer' });
    callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
  },
  onConnect(_session, callback) {
    open++;
    callback();
  },
  onClose() {
    open--;
  },
  onRcptTo(address, _session, callback) {
    const code = rejectRcpt(address.address);
    if (!code) return callback();
    callback(Object.assign(new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: code }));
  },
  onData(stream, session, callback) {
    simpleParser(stream).then(
      (mail) => {
        received.push({ mail, rcpt: session.envelope.rcptTo.map((r) => r.address), user: session.user as string | undefined });
        callback();
      },
      (err: Error) => callback(err),
    );
  },
});
// a client that cuts a transaction short is a connection error smtp-server emits on the server:
// kept here, not thrown into whichever test file runs when it comes (test/helpers/receivers.ts)
const serverErrors: Error[] = [];
server.on('error', (err: Error) => serverErrors.push(err));
const notifier = new EmailNotifier({ timeoutMs: 2000, guard: loopback });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  notifier.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received = [];
  rejectRcpt = () => undefined;
});

const target = (over: { smtpUrl?: string; to?: string[] } = {}) => ({
  channel: 'email' as const,
  smtpUrl: `smtp://127.0.0.1:${port}`,
  from: 'Fleet MDM <alerts@mdm.example.com>',
  to: ['ops@example.com'],
  ...over,
});

const message = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  title: 'Lobby kiosk 3 is offline',
  text: 'Lobby kiosk 3 has not checked in for 15 minutes.\n\nIt was last seen on Wi-Fi.',
  severity: 'critical',
  url: 'https://mdm.example.com/alerts/42',
  at: '2025-03-01T10:15:00.000Z',
  items: [
    {
      title: 'Lobby kiosk 3',
      url: 'https://mdm.example.com/devices/d3',
      fields: [
        { name: 'Group', value: 'Lobby' },
        { name: 'Since', value: '10:00' },
      ],
    },
  ],
  ...over,
});

describe('EmailNotifier', () => {
  it('sends subject, sender, every recipient, and text and HTML parts with the items and links', async () => {
    const to = ['ops@example.com', 'oncall@example.com', 'lead@example.org'];
    const result = await notifier.send(message(), target({ to }));
    expect(result).toMatchObject({ ok: true });

    expect(received).toHaveLength(1);
    const { mail, rcpt } = received[0]!;
    expect(rcpt).toEqual(to);
    expect(mail.subject).toBe('Lobby kiosk 3 is offline');
    expect(mail.from?.value).toEqual([{ name: 'Fleet MDM', address: 'alerts@mdm.example.com' }]);
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value.map((a) => a.address)).toEqual(to);
    expect(mail.text).toContain('Lobby kiosk 3 has not checked in for 15 minutes.');
    expect(mail.text).toContain('Group: Lobby\nSince: 10:00\nhttps://mdm.example.com/devices/d3');
    expect(mail.text).toContain('https://mdm.example.com/alerts/42');
    expect(mail.html).toContain('#E74C3C');
    expect(mail.html).toContain('<p style="margin:0 0 12px;line-height:1.5">It was last seen on Wi-Fi.</p>');
    expect(mail.html).toContain('href="https://mdm.example.com/alerts/42"');
    expect(mail.html).toContain('href="https://mdm.example.com/devices/d3"');
  });

  it('escapes everything interpolated into the HTML and links only http(s) URLs', async () => {
    const nasty = '<script>alert(1)</script> "quotes" & ampersands \'single\'';
    const result = await notifier.send(
      message({
        title: nasty,
        text: nasty,
        url: 'javascript:alert(1)',
        items: [{ title: nasty, url: 'https://x.example/?a=1&b="2"', fields: [{ name: nasty, value: nasty }] }],
      }),
      target(),
    );
    expect(result.ok).toBe(true);
    const { mail } = received[0]!;
    const html = mail.html as string;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('javascript:');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; ampersands &#39;single&#39;');
    expect(html).toContain('href="https://x.example/?a=1&amp;b=&quot;2&quot;"');
    // The plain text and the subject keep the original characters.
    expect(mail.subject).toBe(nasty);
    expect(mail.text).toContain(nasty);
    expect(mail.text).toContain(`${nasty}: ${nasty}`);
  });

  it('logs in with the credentials in the URL', async () => {
    const smtpUrl = `smtp://mailer:${ENCODED_PASSWORD}@127.0.0.1:${port}`;
    expect(await notifier.send(message(), target({ smtpUrl }))).toMatchObject({ ok: true });
    expect(received.map((r) => r.user)).toEqual(['mailer']);

    const wrong = await notifier.send(message(), target({ smtpUrl: `smtp://mailer:nope@127.0.0.1:${port}` }));
    expect(wrong).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('535') });
    expect((wrong as { error: string }).error).not.toContain('nope');
  });

  it('gives up on a permanent 550 recipient rejection', async () => {
    rejectRcpt = () => 550;
    const result = await notifier.send(message(), target());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('550') });
    expect(received).toHaveLength(0);
  });

  it('retries a temporary 451 rejection', async () => {
    rejectRcpt = () => 451;
    const result = await notifier.send(message(), target());
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('451') });
    expect(received).toHaveLength(0);
  });

  it('counts a message some recipients accepted as sent, naming the rejected ones', async () => {
    rejectRcpt = (address) => (address === 'gone@example.com' ? 550 : undefined);
    const result = await notifier.send(message(), target({ to: ['ops@example.com', 'gone@example.com'] }));
    expect(result).toMatchObject({ ok: true, detail: expect.stringContaining('rejected: gone@example.com') });
    expect(received.map((r) => r.rcpt)).toEqual([['ops@example.com']]);
  });

  it('retries when the server is down, without the password in the error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const smtpUrl = `smtp://mailer:${ENCODED_PASSWORD}@127.0.0.1:${closedPort}`;
    const result = await notifier.send(message(), target({ smtpUrl }));
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    for (const secret of [PASSWORD, ENCODED_PASSWORD, smtpUrl]) expect((result as { error: string }).error).not.toContain(secret);
  });

  it('retries when the server accepts the connection but never greets', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const quick = new EmailNotifier({ timeoutMs: 300, guard: loopback });
    const smtpUrl = `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      expect(await quick.send(message(), target({ smtpUrl }))).toMatchObject({
        ok: false,
        retryable: true,
        error: expect.stringContaining('ETIMEDOUT'),
      });
    } finally {
      quick.close();
      silent.close();
    }
  });

  it('refuses a non-email target and a malformed URL without sending', async () => {
    const discord = { channel: 'discord' as const, webhookUrl: 'https://discord.com/api/webhooks/1/t' };
    expect(await notifier.send(message(), discord)).toMatchObject({ ok: false, retryable: false });
    expect(await notifier.send(message(), target({ smtpUrl: `mailer:${PASSWORD}@host` }))).toMatchObject({ ok: false, retryable: false });
    expect(received).toHaveLength(0);
  });

  it('close() releases pooled connections and later sends open new ones', async () => {
    const own = new EmailNotifier({ timeoutMs: 2000, guard: loopback });
    await vi.waitFor(() => expect(open).toBe(0));
    expect(await own.send(message(), target({ smtpUrl: `smtp://127.0.0.1:${port}/?pool=true` }))).toMatchObject({ ok: true });
    // A pooled connection stays open after the message, until the transport is closed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(open).toBe(1);
    own.close();
    await vi.waitFor(() => expect(open).toBe(0));

    expect(await own.send(message(), target())).toMatchObject({ ok: true });
    own.close();
    expect(received).toHaveLength(2);
  });
});

describe('egress', () => {
  it('refuses a loopback SMTP server unless allowed, without connecting, as destination_refused', async () => {
    const strict = new EmailNotifier({ timeoutMs: 2000 });
    const before = received.length;
    const result = await strict.send(message(), target());
    expect(result).toMatchObject({ ok: false, retryable: false, failure: 'destination_refused' });
    expect(received.length).toBe(before);
    strict.close();
  });

  it('checks the address a name resolves to when connecting (a name pointing at loopback is refused)', async () => {
    const resolveTo = (address: string) => createEgressGuard({ resolve: (_host, cb) => cb(null, [{ address, family: 4 }]) });
    const strict = new EmailNotifier({ timeoutMs: 2000, guard: resolveTo('127.0.0.1') });
    const result = await strict.send(message(), target({ smtpUrl: `smtp://relay.example.test:${port}` }));
    expect(result).toMatchObject({ ok: false, failure: 'destination_refused' });
    strict.close();
    // the same name allowed: the connection goes to the resolved address
    const allowed = new EmailNotifier({
      timeoutMs: 2000,
      guard: createEgressGuard({ allow: parseCidrs('127.0.0.1'), resolve: (_h, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }),
    });
    expect(await allowed.send(message(), target({ smtpUrl: `smtp://relay.example.test:${port}` }))).toMatchObject({ ok: true });
    allowed.close();
  });
});
