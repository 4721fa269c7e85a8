// Writes functions/.env.<project>, the parameters a non-interactive `firebase deploy` needs: every
// param declared in src/firebase/params.ts (read from the build, so this list cannot drift from the
// code), each from the environment variable of the same name or else its default. Secrets are not
// written (they live in Secret Manager). The console's CONSOLE_FIREBASE_* keys are added when set.
// Usage (after `npm run build -w functions`):
//   PUBLIC_URL=https://my-project.web.app node functions/scripts/write-dotenv.mjs my-project [out file]
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const functionsDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONSOLE_KEYS = ['CONSOLE_FIREBASE_API_KEY', 'CONSOLE_FIREBASE_AUTH_DOMAIN', 'CONSOLE_FIREBASE_PROJECT_ID', 'CONSOLE_FIREBASE_APP_ID'];

/** The non-secret params the functions declare: name, type and default. */
export async function declaredParams(dir = functionsDir) {
  await import(pathToFileURL(join(dir, 'lib/firebase/params.js')).href);
  const { declaredParams: params } = await import('firebase-functions/params');
  return params.map((p) => p.toSpec()).filter((spec) => spec.type !== 'secret');
}

/** A dotenv line firebase-tools' parser reads back as the same value. */
const line = (key, value) =>
  /^[\w.:/@+,=-]*$/.test(value) ? `${key}=${value}` : `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** The .env text for `env` (a process.env): every param, then the console's keys when set. */
export async function dotenv(env, dir = functionsDir) {
  const lines = [];
  const missing = [];
  for (const spec of await declaredParams(dir)) {
    const value = env[spec.name] !== undefined && env[spec.name] !== '' ? env[spec.name] : spec.default;
    if (value === undefined) missing.push(spec.name);
    else lines.push(line(spec.name, String(value)));
  }
  if (missing.length) throw new Error(`no value for ${missing.join(', ')}: set them in the environment`);
  for (const key of CONSOLE_KEYS) if (env[key]) lines.push(line(key, env[key]));
  return lines.join('\n') + '\n';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const project = process.argv[2];
  if (!project) {
    console.error('usage: node functions/scripts/write-dotenv.mjs <project> [out file]');
    process.exit(2);
  }
  const out = process.argv[3] ?? join(functionsDir, `.env.${project}`);
  try {
    writeFileSync(out, await dotenv(process.env));
    console.log(`wrote ${out}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
