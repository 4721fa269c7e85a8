import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, tokenDigestMatcher } from './crypto.js';
import { SessionTokens } from './session-tokens.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = (file: string) => readFile(join(root, file), 'utf8');

/**
 * Secrets are compared in constant time: the session-token MAC, the metrics token, any string compare
 * through constantTimeEqual. (Passwords and device secrets go through bcrypt's own compare; enrollment
 * tokens are looked up by their SHA-256.) Timing itself is not measured - too noisy for a test - so
 * the code is held to the only compare that is constant-time, and to nothing else.
 */
describe('constant-time compares', () => {
  it('checks the session-token MAC with timingSafeEqual before parsing any part of the token', async () => {
    const text = await source('core/session-tokens.ts');
    const verify = text.slice(text.indexOf('verify(audience'));
    const mac = verify.indexOf('timingSafeEqual(given, expected)');
    expect(mac).toBeGreaterThan(0);
    expect(verify.indexOf('parseJson(')).toBeGreaterThan(mac);
    const tokens = new SessionTokens('x'.repeat(40));
    const now = new Date('2026-01-01T00:00:00Z');
    const { token } = await tokens.sign('admin', 'a1', now, 60);
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(tokens.verify('admin', `${h}.${p}.${(s[0] === 'A' ? 'B' : 'A') + s.slice(1)}`, now)).toBeNull();
    expect(tokens.verify('admin', `${h}.${p}.${s}AA`, now)).toBeNull(); // another length: refused before any compare
    expect(tokens.verify('admin', token, now)?.sub).toBe('a1');
  });

  it('keeps only the digest of the metrics token and compares digests of equal length', async () => {
    const sha = createHash('sha256').update('m'.repeat(40)).digest();
    const matches = tokenDigestMatcher(sha);
    expect(matches('m'.repeat(40))).toBe(true);
    for (const wrong of ['m'.repeat(39) + 'n', 'm', 'm'.repeat(5000), '']) expect(matches(wrong)).toBe(false);
    expect(tokenDigestMatcher(undefined)('anything')).toBe(false);
    expect(await source('core/crypto.ts')).toMatch(/timingSafeEqual\(createHash\('sha256'\)\.update\(token\)\.digest\(\), sha256\)/);
    expect(await source('app.ts')).toContain('tokenDigestMatcher(config.metricsTokenSha256)');
  });

  it('compares strings of unequal length through their digests rather than returning early', async () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'a much longer guess')).toBe(false);
    const text = await source('core/crypto.ts');
    const fn = text.slice(text.indexOf('export function constantTimeEqual'), text.indexOf('export function tokenDigestMatcher'));
    expect(fn.match(/timingSafeEqual\(/g)).toHaveLength(2);
  });

  it('has no == / ===, .equals or Buffer.compare between secret-looking values anywhere in the backend', async () => {
    const files: string[] = [];
    const walk = async (dir: string) => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) files.push(join(dir, e.name));
      }
    };
    await walk(root);
    expect(files.length).toBeGreaterThan(50);
    const secret = String.raw`[\w.]*(?:sig|signature|mac|hmac|digest|token|secret|hash|password|apikey)\w*`;
    const eq = new RegExp(String.raw`\b${secret}\s*(?:===|!==|==|!=)\s*${secret}\b`, 'i');
    const bufferEquals = new RegExp(String.raw`\b${secret}\.equals\(|Buffer\.compare\(`, 'i');
    const offenders: string[] = [];
    for (const f of files) {
      (await readFile(f, 'utf8')).split('\n').forEach((line, i) => {
        // an APK signer's certificate digest is public (apksigner prints it; the catalog serves it): not a secret
        const publicDigest = /[\w.]*signer\w*\s*(?:===|!==)\s*[\w.]*signer\w*/i.test(line);
        // a policy document's hash is public too: every heartbeat answer carries it, and it is the cid
        // of the signed document (the signature is checked by the command envelope's code, not here)
        const policyHash = /^policies\//.test(f.slice(root.length)) && !/hmac|secret|token|password|sig\b|signature/i.test(line);
        if ((eq.test(line) && !publicDigest && !policyHash) || bufferEquals.test(line))
          offenders.push(`${f.slice(root.length)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
    // and the check itself catches what it is meant to
    expect(eq.test('if (signature === expectedSig) return true;')).toBe(true);
    expect(eq.test('if (token.length !== 3) return null;')).toBe(false);
  });
});
