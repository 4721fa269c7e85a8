import { execFileSync } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskBlobStore } from '../../src/adapters/local/disk-blob-store.js';
import { TempSpool } from '../../src/adapters/local/temp-spool.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { countReleases, leftoverFiles } from '../helpers/catalog.js';

const dir = new URL('../../../docs/vectors/apk/', import.meta.url);
const apk = (name: string) => readFileSync(new URL(`${name}.apk`, dir));
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  { sha256: string; signerSha256: string }
>;

/** A self-signed certificate for 127.0.0.1 and localhost, made for this run by openssl. */
async function selfSigned(): Promise<{ key: string; cert: string }> {
  const d = await mkdtemp(join(tmpdir(), 'register-url-cert-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(d, 'key.pem'),
      '-out',
      join(d, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const pair = { key: await readFile(join(d, 'key.pem'), 'utf8'), cert: await readFile(join(d, 'cert.pem'), 'utf8') };
  await rm(d, { recursive: true, force: true });
  return pair;
}

/**
 * Registering a release by https URL: the server downloads the APK through its egress policy (here a
 * local HTTPS listener on loopback, allowed by EGRESS_ALLOW_CIDRS, its certificate trusted only by
 * the test's injected CA), then stores it exactly as an upload. Every refusal has its own 4xx code,
 * never repeats the remote's body, and stores nothing.
 */
describe('registering a release by https URL', () => {
  let tls: { key: string; cert: string };
  let remote: Server;
  let base: string;
  const hits: string[] = [];
  let t: TestApp;
  let admin: string;
  let spoolDir: string;
  let blobDir: string;

  const routes: Record<string, (res: ServerResponse) => void> = {
    '/agent-1.apk': (res) => res.writeHead(200, { 'content-type': 'application/vnd.android.package-archive' }).end(apk('agent-1')),
    '/agent-2-other-signer.apk': (res) => res.writeHead(200).end(apk('agent-2-other-signer')),
    '/missing.apk': (res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('SECRET-REMOTE-BODY'),
    '/moved.apk': (res) => res.writeHead(302, { location: `${base}/agent-1.apk` }).end('SECRET-REMOTE-BODY'),
    '/declared-large.apk': (res) => res.writeHead(200, { 'content-length': String(3 * 1024 * 1024) }).end(Buffer.alloc(3 * 1024 * 1024)),
    '/chunked-large.apk': (res) => {
      res.writeHead(200); // no content-length: the cap is met while streaming
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      let sent = 0;
      const more = () => {
        while (sent < 40 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    },
    '/text.apk': (res) => res.writeHead(200).end('this is not an APK at all, just text'),
    '/stall.apk': (res) => res.writeHead(200, { 'content-length': '100000' }).write(Buffer.alloc(10)), // never finishes
  };

  beforeAll(async () => {
    tls = await selfSigned();
    remote = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      hits.push(path);
      (routes[path] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
    });
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    spoolDir = join(await mkdtemp(join(tmpdir(), 'register-spool-')), 'uploads');
    blobDir = await mkdtemp(join(tmpdir(), 'register-blobs-'));
    t = await createTestApp(
      'pglite',
      { APK_MAX_BYTES: String(1024 * 1024), EGRESS_ALLOW_CIDRS: '127.0.0.1/32', RELEASE_URL_TIMEOUT_SEC: '5' },
      { downloadCa: tls.cert, spool: new TempSpool(spoolDir), blobs: new DiskBlobStore(blobDir) },
    );
    admin = await t.loginAs('admin');
  });
  afterAll(async () => {
    remote?.closeAllConnections();
    await new Promise((r) => remote?.close(r));
    await t?.close();
  });

  const register = (body: Record<string, unknown>, token = admin) => t.request('POST', '/api/v1/admin/releases/register', { token, body });

  it('downloads, parses and stores the APK like an upload; devices then download it from this server; audited with the URL', async () => {
    expect((await register({ url: `${base}/agent-1.apk` }, await t.loginAs('operator'))).status).toBe(403);
    const res = await register({ url: `${base}/agent-1.apk?token=SECRET-QUERY`, notes: 'from CI', packageName: 'dev.fleetmdm.agent' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      packageName: 'dev.fleetmdm.agent',
      versionCode: 1,
      sha256: expected['agent-1']!.sha256,
      signerSha256: expected['agent-1']!.signerSha256,
      notes: 'from CI',
    });
    const served = await t.request('GET', `/api/v1/releases/${res.json.id}/apk`);
    expect(served.status).toBe(200);
    expect(Buffer.compare(served.body as Buffer, apk('agent-1'))).toBe(0);
    expect(served.headers['x-apk-sha256']).toBe(expected['agent-1']!.sha256);
    const audit = await t.request('GET', '/api/v1/admin/audit?action=uploaded_release', { token: admin });
    expect(audit.json.items[0].details).toMatchObject({ versionCode: 1, sourceUrl: `${base}/agent-1.apk` });
    expect(JSON.stringify(audit.json.items[0])).not.toContain('SECRET-QUERY');
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  });

  it('refuses what is not https, and what is not a URL, before connecting', async () => {
    const before = hits.length;
    for (const url of [`http://127.0.0.1:1/agent-1.apk`, 'ftp://example.com/a.apk', 'file:///etc/passwd']) {
      const res = await register({ url });
      expect([res.status, res.json.error.code], url).toEqual([400, 'url_not_https']);
    }
    const bad = await register({ url: 'not a url' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_url']);
    expect(hits.length).toBe(before);
  });

  it('fails a remote error or a redirect as download_failed by its status alone, never following the redirect', async () => {
    const missing = await register({ url: `${base}/missing.apk` });
    expect([missing.status, missing.json.error.code]).toEqual([422, 'download_failed']);
    expect(missing.json.error.message).toContain('404');
    const before = hits.length;
    const moved = await register({ url: `${base}/moved.apk` });
    expect([moved.status, moved.json.error.code]).toEqual([422, 'download_failed']);
    expect(moved.json.error.message).toContain('redirect');
    expect(hits.slice(before)).toEqual(['/moved.apk']);
    expect(JSON.stringify([missing.json, moved.json])).not.toContain('SECRET-REMOTE-BODY');
  });

  it('refuses a file over APK_MAX_BYTES, by its Content-Length or while streaming, leaving no temporary file', async () => {
    const declared = await register({ url: `${base}/declared-large.apk` });
    expect([declared.status, declared.json.error.code]).toEqual([413, 'download_too_large']);
    const streamed = await register({ url: `${base}/chunked-large.apk` });
    expect([streamed.status, streamed.json.error.code]).toEqual([413, 'download_too_large']);
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  });

  it('refuses what is not an APK, and another signer, as an upload would; nothing is stored', async () => {
    const before = await countReleases(t.db.db);
    const text = await register({ url: `${base}/text.apk` });
    expect([text.status, text.json.error.code]).toEqual([400, 'not_an_apk']);
    const other = await register({ url: `${base}/agent-2-other-signer.apk` });
    expect([other.status, other.json.error.code]).toEqual([409, 'signer_mismatch']);
    expect(await countReleases(t.db.db)).toBe(before);
    expect((await leftoverFiles(blobDir)).length).toBe(before);
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  });

  it('gives up on a stalled download after RELEASE_URL_TIMEOUT_SEC', async () => {
    const res = await register({ url: `${base}/stall.apk` });
    expect([res.status, res.json.error.code]).toEqual([422, 'download_failed']);
    expect(res.json.error.message).toContain('timed out');
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  }, 20_000);

  it('does not trust a certificate the system does not: download_failed (TLS)', async () => {
    const strict = await createTestApp('pglite', { EGRESS_ALLOW_CIDRS: '127.0.0.1/32' });
    try {
      const res = await strict.request('POST', '/api/v1/admin/releases/register', {
        token: await strict.loginAs('admin'),
        body: { url: `${base}/agent-1.apk` },
      });
      expect([res.status, res.json.error.code]).toEqual([422, 'download_failed']);
      expect(res.json.error.message).toContain('TLS');
    } finally {
      await strict.close();
    }
  });

  it('refuses loopback without EGRESS_ALLOW_CIDRS, by address and by name: destination_refused, nothing fetched', async () => {
    const closed = await createTestApp('pglite', {}, { downloadCa: tls.cert });
    try {
      const token = await closed.loginAs('admin');
      const before = hits.length;
      const port = (remote.address() as AddressInfo).port;
      for (const url of [`${base}/agent-1.apk`, `https://localhost:${port}/agent-1.apk`, 'https://169.254.169.254/latest/meta-data']) {
        const res = await closed.request('POST', '/api/v1/admin/releases/register', { token, body: { url } });
        expect([res.status, res.json.error.code], url).toEqual([422, 'destination_refused']);
      }
      expect(hits.length).toBe(before);
    } finally {
      await closed.close();
    }
  });
});
