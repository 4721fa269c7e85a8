import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `mdm login` keeps: the server and an admin session token, readable by this user only. */
export interface Credentials {
  url: string;
  email: string;
  token: string;
  expiresAt: string | null;
}

export const credentialsPath = (env: NodeJS.ProcessEnv): string =>
  env.MDM_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'fleet-mdm', 'cli.json');

export async function loadCredentials(path: string): Promise<Credentials | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Credentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function saveCredentials(path: string, c: Credentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  await chmod(path, 0o600); // also when the file existed with looser bits
}

export async function forgetCredentials(path: string): Promise<void> {
  await rm(path, { force: true });
}
