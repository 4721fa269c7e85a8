import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutgoingMessage, Severity } from '../../ports/notifier.js';
import { parseCidrs } from '../../core/cidr.js';
import { createEgressGuard } from '../egress/egress-guard.js';
import { DiscordNotifier } from './discord.js';

/** The receiver here is on loopback, which alert channels may reach only when allowed. */
const loopback = { allowedHosts: ['127.0.0.1'], guard: createEgressGuard({ allow: parseCidrs('127.0.0.0/8') }) };

type Answer = (res: ServerResponse, req: IncomingMessage) => void;
interface Recorded {
  method?: string;
  path?: string;
  contentType?: string;
  body: any;
}

/** A webhook receiver on loopback: records each request and answers with the next scripted answer (204 when none is left). */
let server: Server;
let requests: Recorded[] = [];
let script: Answer[] = [];
const TOKEN = 'Zx9-webhook-token-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const WEBHOOK_ID = '112233445566778899';
let webhookUrl = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method, path: req.url, contentType: req.headers['content-type'], body: JSON.parse(raw) });
      (script.shift() ?? ((r) => r.writeHead(204).end()))(res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks/${WEBHOOK_ID}/${TOKEN}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests = [];
  script = [];
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

function message(over: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    title: 'Lobby kiosk 3 is offline',
    text: 'Lobby kiosk 3 has not checked in for 15 minutes.',
    severity: 'critical',
    url: 'https://mdm.example.com/alerts/42',
    at: '2025-03-01T10:15:00.000Z',
    items: [
      {
        title: 'Lobby kiosk 3 (Pixel 7 R5CT1234)',
        url: 'https://mdm.example.com/devices/d3',
        fields: [
          { name: 'Group', value: 'Lobby' },
          { name: 'Since', value: '10:00' },
        ],
      },
      { title: 'Lobby kiosk 4', fields: [{ name: 'Group', value: 'Lobby' }] },
    ],
    ...over,
  };
}

/** Records the waits asked for instead of waiting, so retry tests are not timed. */
function notifier(options: ConstructorParameters<typeof DiscordNotifier>[0] = {}) {
  const sleeps: number[] = [];
  return { sleeps, discord: new DiscordNotifier({ ...loopback, ...options }, async (ms) => void sleeps.push(ms)) };
}
const target = () => ({ channel: 'discord' as const, webhookUrl });
const embedChars = (embeds: any[]) =>
  embeds.reduce(
    (n, e) =>
      n +
      (e.title?.length ?? 0) +
      (e.description?.length ?? 0) +
      (e.footer?.text.length ?? 0) +
      (e.fields ?? []).reduce((m: number, f: any) => m + f.name.length + f.value.length, 0),
    0,
  );

describe('DiscordNotifier', () => {
  it('posts one embed for the message and one per item, without pings', async () => {
    const { discord } = notifier();
    expect(await discord.send(message(), target())).toEqual({ ok: true, detail: 'HTTP 204' });

    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req).toMatchObject({ method: 'POST', path: `/api/webhooks/${WEBHOOK_ID}/${TOKEN}`, contentType: 'application/json' });
    expect(req!.body.username).toBe('Fleet MDM');
    expect(req!.body.allowed_mentions).toEqual({ parse: [] });
    const [main, first, second] = req!.body.embeds;
    expect(req!.body.embeds).toHaveLength(3);
    expect(main).toEqual({
      title: 'Lobby kiosk 3 is offline',
      description: 'Lobby kiosk 3 has not checked in for 15 minutes.',
      url: 'https://mdm.example.com/alerts/42',
      color: 0xe74c3c,
      timestamp: '2025-03-01T10:15:00.000Z',
    });
    expect(first).toMatchObject({ title: 'Lobby kiosk 3 (Pixel 7 R5CT1234)', url: 'https://mdm.example.com/devices/d3', color: 0xe74c3c });
    expect(first.fields).toEqual([
      { name: 'Group', value: 'Lobby', inline: true },
      { name: 'Since', value: '10:00', inline: true },
    ]);
    expect(second.url).toBeUndefined();
  });

  it('colours the embeds by severity', async () => {
    const { discord } = notifier();
    const colors: Record<Severity, number> = { critical: 0xe74c3c, warning: 0xe67e22, info: 0x3498db, resolved: 0x2ecc71 };
    for (const severity of Object.keys(colors) as Severity[]) await discord.send(message({ severity }), target());
    expect(requests.map((r) => r.body.embeds.map((e: any) => e.color))).toEqual(Object.values(colors).map((c) => [c, c, c]));
  });

  it('keeps a 40-device digest within Discord limits and says how many were left out', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      title: `Kiosk ${i} ${'x'.repeat(300)}`,
      fields: Array.from({ length: 30 }, (_, f) => ({ name: `F${f}`, value: 'v'.repeat(i === 0 && f === 0 ? 2000 : 40) })),
    }));
    const text = items.map((it) => `• ${it.title.slice(0, 9)} offline`).join('\n');
    const { discord } = notifier();
    expect((await discord.send(message({ title: 'T'.repeat(300), text, items }), target())).ok).toBe(true);
    expect((await discord.send(message({ text: '😀'.repeat(3000), items: [] }), target())).ok).toBe(true);

    expect(requests).toHaveLength(2);
    const embeds = requests[0]!.body.embeds as any[];
    // The first items are kept, later ones dropped until everything fits.
    expect(embeds.slice(1).map((e) => e.title.slice(0, 8))).toEqual(['Kiosk 0 ', 'Kiosk 1 ']);
    expect(embeds.length).toBeLessThanOrEqual(10);
    expect(embedChars(embeds)).toBeLessThanOrEqual(6000);
    expect(embeds[0].title).toHaveLength(256);
    expect(embeds[0].description).toBe(text);
    expect(embeds[0].footer.text).toBe(`and ${40 - (embeds.length - 1)} more`);
    expect(embeds[1].fields).toHaveLength(25);
    expect(embeds[1].fields[0].value).toHaveLength(1024);
    // Cut to 4096 without splitting an emoji's surrogate pair.
    const long = requests[1]!.body.embeds[0].description as string;
    expect(long.length).toBeLessThanOrEqual(4096);
    expect(long).toMatch(/^(😀)+…$/u);
  });

  it('waits out a short 429 as told and then posts exactly once more', async () => {
    script = [json(429, { message: 'You are being rate limited.', retry_after: 0.4 }, { 'retry-after': '1' })];
    const { discord, sleeps } = notifier();
    expect((await discord.send(message(), target())).ok).toBe(true);
    expect(requests).toHaveLength(2);
    expect(sleeps).toEqual([1000]);
    expect(requests[1]!.body).toEqual(requests[0]!.body);
  });

  it('hands a long 429 back to the caller without waiting', async () => {
    script = [json(429, { message: 'You are being rate limited.', retry_after: 120, global: false })];
    const { discord, sleeps } = notifier();
    expect(await discord.send(message(), target())).toMatchObject({ ok: false, retryable: true, retryAfterSec: 120 });
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('gives up on 429s after maxAttempts, still telling when to come back', async () => {
    script = [1, 2, 3].map(() => json(429, { retry_after: 0.25 }));
    const { discord, sleeps } = notifier();
    expect(await discord.send(message(), target())).toMatchObject({ ok: false, retryable: true, retryAfterSec: 1 });
    expect(requests).toHaveLength(3);
    expect(sleeps).toEqual([250, 250]);
  });

  it('retries server errors with a growing back-off', async () => {
    script = [json(500, { message: 'oops' }), json(502, { message: 'bad gateway' })];
    const { discord, sleeps } = notifier();
    expect((await discord.send(message(), target())).ok).toBe(true);
    expect(requests).toHaveLength(3);
    expect(sleeps).toEqual([500, 1000]);

    requests = [];
    script = [1, 2, 3].map(() => json(503, {}));
    const failed = await discord.send(message(), target());
    expect(failed).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('503') });
    expect(requests).toHaveLength(3);
  });

  it('does not follow a redirect (it could lead to an internal address), and reports it as final', async () => {
    script = [(res) => res.writeHead(302, { location: `${webhookUrl}?followed=1` }).end()];
    const { discord } = notifier();
    const result = await discord.send(message(), target());
    expect(result).toMatchObject({
      ok: false,
      retryable: false,
      error: 'Discord answered with a redirect (HTTP 302), which is not followed',
    });
    expect(requests).toHaveLength(1);
  });

  it('reports a deleted webhook as final, without the URL or its token', async () => {
    // A body that echoes the path, as some proxies do, must not leak the token either.
    script = [(res, req) => res.writeHead(404).end(`{"message": "Unknown Webhook", "code": 10015, "path": "${req.url}"}`)];
    const { discord, sleeps } = notifier();
    const result = await discord.send(message(), target());
    expect(result).toMatchObject({ ok: false, retryable: false });
    const error = (result as { error: string }).error;
    expect(error).toContain('404');
    expect(error).toContain('Unknown Webhook');
    for (const secret of [webhookUrl, TOKEN, WEBHOOK_ID]) expect(error).not.toContain(secret);
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('times out on a receiver that never answers, retryable and without posting again', async () => {
    script = [() => {}];
    const { discord } = notifier({ timeoutMs: 200 });
    const result = await discord.send(message(), target());
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('200 ms') });
    expect(requests).toHaveLength(1);
  });

  it('treats a refused connection as retryable and keeps the URL out of the error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { discord, sleeps } = notifier();
    const url = `http://127.0.0.1:${port}/api/webhooks/${WEBHOOK_ID}/${TOKEN}`;
    const result = await discord.send(message(), { channel: 'discord', webhookUrl: url });
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    for (const secret of [url, TOKEN]) expect((result as { error: string }).error).not.toContain(secret);
    expect(sleeps).toEqual([500, 1000]);
  });

  it('refuses targets that are not Discord webhooks without sending', async () => {
    const { discord } = notifier();
    const email = { channel: 'email' as const, smtpUrl: 'smtp://x', from: 'a@b.c', to: ['d@e.f'] };
    expect(await discord.send(message(), email)).toMatchObject({ ok: false, retryable: false });
    expect(await discord.send(message(), { channel: 'discord', webhookUrl: 'not a url' })).toMatchObject({ ok: false, retryable: false });
    expect(requests).toHaveLength(0);
  });
});

describe('egress', () => {
  const send = (discord: DiscordNotifier, url = webhookUrl) => discord.send(message(), { channel: 'discord', webhookUrl: url });
  const stub = (address: string) => createEgressGuard({ resolve: (_host, cb) => cb(null, [{ address, family: 4 }]) });

  it("sends only to Discord's hosts by default", async () => {
    const result = await send(new DiscordNotifier({ guard: loopback.guard }));
    expect(result).toMatchObject({ ok: false, retryable: false, failure: 'invalid_target' });
    expect((result as { error: string }).error).toContain('discord.com');
    expect(requests).toHaveLength(0);
  });

  it('refuses loopback, private and metadata addresses at connect time unless allowed', async () => {
    // the host is allowed, the address is not
    expect(await send(new DiscordNotifier({ allowedHosts: ['127.0.0.1'] }))).toMatchObject({ ok: false, failure: 'destination_refused' });
    const port = (server.address() as AddressInfo).port;
    const path = `/api/webhooks/${WEBHOOK_ID}/${TOKEN}`;
    for (const address of ['127.0.0.1', '10.0.0.7', '169.254.169.254', '192.168.1.1']) {
      const discord = new DiscordNotifier({ allowedHosts: ['hooks.example.test'], guard: stub(address) });
      const result = await send(discord, `http://hooks.example.test:${port}${path}`);
      expect(result, address).toMatchObject({ ok: false, retryable: false, failure: 'destination_refused' });
    }
    expect(requests).toHaveLength(0);
    // the same name, allowed on purpose: the connection goes to the address the guard checked
    const allowed = new DiscordNotifier({
      allowedHosts: ['hooks.example.test'],
      guard: createEgressGuard({ allow: parseCidrs('127.0.0.1'), resolve: (_h, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }),
    });
    expect(await send(allowed, `http://hooks.example.test:${port}${path}`)).toMatchObject({ ok: true });
    expect(requests).toHaveLength(1);
  });

  it('never puts a non-Discord answer into the error (an internal page stays unread)', async () => {
    script = [(res) => res.writeHead(400, { 'content-type': 'text/html' }).end('<h1>internal admin page: db password hunter2</h1>')];
    const { discord } = notifier();
    const result = await discord.send(message(), target());
    expect(result).toMatchObject({ ok: false, failure: 'rejected', error: 'Discord answered HTTP 400' });
  });
});
