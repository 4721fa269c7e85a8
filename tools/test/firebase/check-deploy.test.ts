import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * tools/scripts/check-firebase-deploy.mjs runs firebase-tools' own deploy preparation offline. It
 * passes on the repository as it is, and fails on each blocker a real deploy met: a decommissioned
 * runtime, a param without a value in the .env, and a key Firebase reserves. (functions/lib is built
 * by `npm ci`'s prepare and by the backend tests, which run first.)
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const script = join(root, 'tools/scripts/check-firebase-deploy.mjs');

async function check(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    // firebase-tools gives the functions 10 s to load (FUNCTIONS_DISCOVERY_TIMEOUT overrides it); this
    // suite runs beside the backend's, and on two busy cores loading them has taken longer
    const env = { ...process.env, FUNCTIONS_DISCOVERY_TIMEOUT: '60' };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], { cwd: root, env });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

let dir: string;
let dotenv: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'firebase-deploy-'));
  const out = join(dir, 'generated.env');
  await promisify(execFile)(process.execPath, [join(root, 'functions/scripts/write-dotenv.mjs'), 'demo-check', out], {
    env: { ...process.env, PUBLIC_URL: 'https://demo-check.web.app' },
  });
  dotenv = await readFile(out, 'utf8');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('firebase deploy preparation, offline', () => {
  it('accepts the repository as it is, with the .env the deploy workflow writes', async () => {
    const { code, out } = await check();
    expect(out).toContain('firebase deploy preparation passes');
    expect(out).toMatch(/runtime nodejs22 is supported/);
    expect(code).toBe(0);
  });

  it('the generated .env names every param, defaults included', () => {
    for (const key of ['REGION', 'PUBLIC_URL', 'DATABASE_URL', 'DB_IAM_AUTH', 'DB_IP_TYPE', 'DB_CONNECTION_LIMIT', 'VPC_CONNECTOR']) {
      expect(dotenv).toMatch(new RegExp(`^${key}=`, 'm'));
    }
    expect(dotenv).not.toMatch(/^(JWT_SECRET|ENCRYPTION_KEY)=/m); // secrets stay in Secret Manager
  });

  it('fails on the Node 20 runtime, decommissioned', async () => {
    const config = JSON.parse(await readFile(join(root, 'firebase.json'), 'utf8')) as { functions: { runtime: string }[] };
    config.functions[0]!.runtime = 'nodejs20';
    await writeFile(join(dir, 'firebase.json'), JSON.stringify(config));
    const { code, out } = await check('--config', join(dir, 'firebase.json'));
    expect(out).toMatch(/Runtime Node.js 20 was decommissioned/);
    expect(code).toBe(1);
  });

  it('fails on a param without a value in the .env (non-interactive)', async () => {
    await writeFile(join(dir, 'missing.env'), dotenv.replace(/^DB_IP_TYPE=.*\n/m, ''));
    const { code, out } = await check('--env-file', join(dir, 'missing.env'));
    expect(out).toMatch(/non-interactive mode but have no value for the following environment variables: DB_IP_TYPE/);
    expect(code).toBe(1);
  });

  it('fails on a key with a prefix Firebase reserves', async () => {
    await writeFile(join(dir, 'reserved.env'), `${dotenv}FIREBASE_WEB_API_KEY=AIzaSyExample\n`);
    const { code, out } = await check('--env-file', join(dir, 'reserved.env'));
    expect(out).toMatch(/FIREBASE_WEB_API_KEY starts with a reserved prefix/);
    expect(code).toBe(1);
  });
});
