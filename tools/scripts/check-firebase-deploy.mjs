// firebase-tools' own deploy preparation, offline: what `firebase deploy --only functions
// --non-interactive` does before it talks to Google, with the steps taken from firebase-tools itself
// (lib/deploy/functions/prepare.js, loadCodebases and prepare): the runtime from firebase.json (or the
// engines of functions/package.json) through guardVersionSupport, the SDK and package.json checks,
// the .env written by functions/scripts/write-dotenv.mjs loaded by firebase-tools' dotenv loader
// (which refuses reserved prefixes), the manifest discovered from functions/lib/index.js by the
// runtime delegate, params resolved non-interactively, and the endpoints validated. Secrets are left
// out (checking that they exist needs Secret Manager), as is everything after (upload, IAM, APIs).
// Usage (after `npm run build -w functions`):
//   node tools/scripts/check-firebase-deploy.mjs [--config firebase.json] [--env-file .env] [--project demo-check]
// --config: a firebase.json to use instead of the repository's (its functions source stays the
// repository's functions/); --env-file: a dotenv file to deploy with instead of a freshly generated one.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: join(root, 'firebase.json') },
    'env-file': { type: 'string' },
    project: { type: 'string', default: 'demo-check' },
  },
});
const projectId = args.project;
// the SDK writes the manifest to a file (a mode of firebase-tools' discovery) rather than serving it on a port: no polling
process.env.FIREBASE_FUNCTIONS_DISCOVERY_OUTPUT_PATH ??= 'true';
const require = createRequire(join(root, 'package.json'));
const ft = (path) => require(`firebase-tools/lib/${path}`);
const supported = ft('deploy/functions/runtimes/supported/index.js');
const runtimes = ft('deploy/functions/runtimes/index.js');
const functionsEnv = ft('functions/env.js');
const build = ft('deploy/functions/build.js');
const backend = ft('deploy/functions/backend.js');
const validate = ft('deploy/functions/validate.js');

const step = (what) => console.log(`- ${what}`);
const firebaseJson = JSON.parse(readFileSync(args.config, 'utf8'));
const codebases = [firebaseJson.functions].flat();
if (codebases.length !== 1) throw new Error('expected one functions codebase in firebase.json');
const codebase = codebases[0];
const sourceDir = join(root, codebase.source);
const configDir = mkdtempSync(join(tmpdir(), 'check-firebase-deploy-'));

try {
  // loadCodebases: the runtime named in firebase.json must be one firebase-tools knows, and deployable today
  if (codebase.runtime && !supported.isRuntime(codebase.runtime)) throw new Error(`firebase.json: unknown runtime ${codebase.runtime}`);
  const delegate = await runtimes.getRuntimeDelegate({ projectId, sourceDir, projectDir: root, runtime: codebase.runtime });
  supported.guardVersionSupport(delegate.runtime);
  const engines = JSON.parse(readFileSync(join(sourceDir, 'package.json'), 'utf8')).engines?.node;
  if (`nodejs${engines}` !== delegate.runtime) {
    throw new Error(`functions/package.json engines.node is ${engines}, firebase.json deploys ${delegate.runtime}`);
  }
  await delegate.validate();
  step(
    `runtime ${delegate.runtime} is supported (${supported.RUNTIMES[delegate.runtime].friendly}, decommissioned ${supported.RUNTIMES[delegate.runtime].decommissionDate})`,
  );

  // the .env the deploy workflow writes (or the one given), loaded by firebase-tools' dotenv loader
  const envName = `.env.${projectId}`;
  if (args['env-file']) copyFileSync(args['env-file'], join(configDir, envName));
  else {
    const { dotenv } = await import(pathToFileURL(join(sourceDir, 'scripts/write-dotenv.mjs')).href);
    writeFileSync(join(configDir, envName), await dotenv({ PUBLIC_URL: `https://${projectId}.web.app` }));
  }
  const userEnvs = functionsEnv.loadUserEnvs({ functionsSource: sourceDir, projectId, projectDir: root, configDir });
  step(`${envName} loads: ${Object.keys(userEnvs).length} keys`);

  // discovery: the manifest the functions SDK builds from functions/lib/index.js
  const firebaseConfig = { projectId, locationId: undefined };
  const firebaseEnvs = functionsEnv.loadFirebaseEnvs(firebaseConfig, projectId);
  const discovered = await delegate.discoverBuild(
    { firebase: firebaseConfig },
    { ...userEnvs, ...firebaseEnvs, GOOGLE_CLOUD_QUOTA_PROJECT: projectId },
  );
  discovered.runtime = codebase.runtime;
  step(`manifest: ${Object.keys(discovered.endpoints).join(', ')}; params ${discovered.params.map((p) => p.name).join(', ')}`);

  // prepare: params resolved non-interactively from the .env alone (isEmulator leaves the secrets to Secret Manager)
  const { backend: want } = await build.resolveBackend({
    build: discovered,
    firebaseConfig,
    userEnvs,
    codebase: codebase.codebase ?? 'default',
    nonInteractive: true,
    isEmulator: true,
  });
  validate.endpointsAreUnique({ [codebase.codebase ?? 'default']: want });
  validate.endpointsAreValid(want, backend.empty());
  const endpoints = backend.allEndpoints(want);
  for (const e of endpoints) if (e.runtime !== codebase.runtime) throw new Error(`${e.id} resolves to runtime ${e.runtime}`);

  // Hosting rewrites name functions that exist, in the region they are deployed to
  for (const rewrite of firebaseJson.hosting?.rewrites ?? []) {
    if (!rewrite.function) continue;
    const { functionId, region } = rewrite.function;
    if (!endpoints.some((e) => e.id === functionId && e.region === region)) {
      throw new Error(`firebase.json rewrites ${rewrite.source} to ${functionId} in ${region}, which the deploy does not create`);
    }
  }
  step(`endpoints valid: ${endpoints.map((e) => `${e.id} (${e.region}, max ${e.maxInstances ?? '-'} instances)`).join(', ')}`);
  console.log('firebase deploy preparation passes');
} catch (err) {
  const children = (err.children ?? []).map((c) => `\n  ${c.message}`).join('');
  console.error(`firebase deploy preparation fails: ${err.message}${children}`);
  process.exitCode = 1;
} finally {
  rmSync(configDir, { recursive: true, force: true });
}
