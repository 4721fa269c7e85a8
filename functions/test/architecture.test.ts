import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');

/** Runs the architecture check (the same command as npm run lint) in `cwd`; never throws. */
async function depcruise(cwd: string, config = join(ROOT, '.dependency-cruiser.cjs')) {
  try {
    const { stdout } = await promisify(execFile)(DEPCRUISE, ['functions/src', 'tools/src', '--config', config, '--output-type', 'err'], {
      cwd,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** One forbidden import per rule, each at a path of its own, laid out like the repository. */
const VIOLATIONS: Record<string, { files: Record<string, string>; edge: string }> = {
  'core-is-the-bottom': {
    files: { 'functions/src/core/errors.ts': "import { x } from '../http/router.js';\nexport const e = x;\n" },
    edge: 'functions/src/core/errors.ts → functions/src/http/router.ts',
  },
  'ports-are-interfaces': {
    files: { 'functions/src/ports/mirror.ts': "import { sse } from '../adapters/sse/sse-mirror.js';\nexport const m = sse;\n" },
    edge: 'functions/src/ports/mirror.ts → functions/src/adapters/sse/sse-mirror.ts',
  },
  'adapters-implement-ports': {
    files: { 'functions/src/adapters/sse/sse-mirror.ts': "import { d } from '../../devices/index.js';\nexport const sse = d;\n" },
    edge: 'functions/src/adapters/sse/sse-mirror.ts → functions/src/devices/index.ts',
  },
  'contexts-stay-below-the-web': {
    files: { 'functions/src/devices/devices.routes.ts': "import { x } from '../http/router.js';\nexport const r = x;\n" },
    edge: 'functions/src/devices/devices.routes.ts → functions/src/http/router.ts',
  },
  'contexts-meet-through-index': {
    files: {
      'functions/src/devices/devices.service.ts': "import { q } from '../fleet-view/fleet-view.repository.js';\nexport const s = q;\n",
    },
    edge: 'functions/src/devices/devices.service.ts → functions/src/fleet-view/fleet-view.repository.ts',
  },
  'adapters-are-wired-by-hosts': {
    files: { 'functions/src/app.ts': "import { sse } from './adapters/sse/sse-mirror.js';\nexport const app = sse;\n" },
    edge: 'functions/src/app.ts → functions/src/adapters/sse/sse-mirror.ts',
  },
  'no-circular': {
    files: {
      'functions/src/alerts/sweep.ts': "import { k } from './alert-settings.js';\nexport const s = () => k;\n",
      'functions/src/alerts/alert-settings.ts': "import { s } from './sweep.js';\nexport const k = 1;\nexport const f = s;\n",
    },
    edge: 'functions/src/alerts/alert-settings.ts → functions/src/alerts/sweep.ts → functions/src/alerts/alert-settings.ts',
  },
  'simulator-is-a-device-not-the-server': {
    files: { 'tools/src/sim/envelope.ts': "import { e } from '../../../functions/src/core/errors.js';\nexport const v = e;\n" },
    edge: 'tools/src/sim/envelope.ts → functions/src/core/errors.ts',
  },
  'tools-enter-through-the-typed-entry': {
    files: { 'tools/src/bench/sweep.ts': "import { app } from '../../../functions/src/app.js';\nexport const b = app;\n" },
    edge: 'tools/src/bench/sweep.ts → functions/src/app.ts',
  },
};

/** Files the violations import, so every import resolves. */
const SUPPORT: Record<string, string> = {
  'functions/src/http/router.ts': 'export const x = 1;\n',
  'functions/src/devices/index.ts': 'export const d = 1;\n',
  'functions/src/fleet-view/fleet-view.repository.ts': 'export const q = 1;\n',
  'functions/src/fleet-view/index.ts': "export { q } from './fleet-view.repository.js';\n",
  'functions/src/adapters/sse/sse-mirror.ts': 'export const sse = 1;\n',
  'functions/src/core/errors.ts': 'export const e = 1;\n',
  'functions/src/app.ts': 'export const app = 1;\n',
  'tools/src/cli/run.ts': 'export const cli = 1;\n',
};

describe('the architecture rules (.dependency-cruiser.cjs)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mdm-arch-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries({ ...SUPPORT, ...files })) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    await copyFile(join(ROOT, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
    await copyFile(join(ROOT, 'tsconfig.depcruise.json'), join(dir, 'tsconfig.depcruise.json'));
    return dir;
  }

  it('hold on the repository as it is', async () => {
    const r = await depcruise(ROOT);
    expect(r.out).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  });

  it('allow what the layers allow: a context through another index, the composition root through indexes', async () => {
    const dir = await tree({
      'functions/src/devices/devices.service.ts': "import { q } from '../fleet-view/index.js';\nexport const s = q;\n",
      'functions/src/app.ts':
        "import { d } from './devices/index.js';\nimport { x } from './http/router.js';\nexport const app = [d, x];\n",
    });
    const r = await depcruise(dir);
    expect(r.out).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  });

  // The violations sit at distinct paths, so one tree holds them all and one run (a few seconds: the
  // CLI loads TypeScript) must report each rule's edge.
  let all: ReturnType<typeof depcruise> | undefined;
  it.each(Object.entries(VIOLATIONS))('fail the build on %s', async (rule, v) => {
    all ??= tree(Object.assign({}, ...Object.values(VIOLATIONS).map((x) => x.files))).then((dir) => depcruise(dir));
    const r = await all;
    // the reporter breaks a long cycle over lines; compare with white space folded
    expect(r.out.replace(/\s+/g, ' ')).toContain(`error ${rule}: ${v.edge}`);
    expect(r.code).not.toBe(0);
  });
});
