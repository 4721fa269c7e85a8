import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** One named server and, once `mdm login` ran against it, an admin session token. */
export interface ServerContext {
  url: string;
  email?: string;
  token?: string;
  expiresAt?: string | null;
  /** The token is a scoped API token (mdm login --token), not an admin session. */
  apiToken?: boolean;
}

/** What the CLI keeps between runs: the named servers and which one commands go to. Readable by this user only. */
export interface Store {
  current: string | null;
  contexts: Record<string, ServerContext>;
}

export const DEFAULT_CONTEXT = 'default';

export const storePath = (env: NodeJS.ProcessEnv): string =>
  env.MDM_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'fleet-mdm', 'cli.json');

export async function loadStore(path: string): Promise<Store> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { current: null, contexts: {} };
    throw err;
  }
  const r = raw as Partial<Store> & Partial<ServerContext>;
  // Before named contexts the file held one login at the top level: it becomes the "default" context.
  if (!r.contexts && typeof r.url === 'string') {
    const { url, email, token, expiresAt } = r;
    return { current: DEFAULT_CONTEXT, contexts: { [DEFAULT_CONTEXT]: { url, email, token, expiresAt } } };
  }
  return { current: r.current ?? null, contexts: r.contexts ?? {} };
}

export async function saveStore(path: string, store: Store): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(store, null, 2) + '\n', { mode: 0o600 });
  await chmod(path, 0o600); // also when the file existed with looser bits
}

/** Which context a command uses: --context, then MDM_CONTEXT, then the one `mdm context use` chose. */
export function selectedContext(store: Store, flag: string | undefined, env: NodeJS.ProcessEnv): string | null {
  return flag ?? env.MDM_CONTEXT ?? store.current;
}
