import { AdminApi } from '../api.js';
import type { LoginResponse } from '../api-types.js';
import { table, UsageError, type Io } from '../output.js';
import { DEFAULT_CONTEXT, loadStore, saveStore, selectedContext } from '../store.js';
import type { Options } from './verb.js';

interface SessionRun {
  o: Options;
  args: string[];
  io: Io;
  path: string;
  print(value: unknown, human: () => void): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const trimUrl = (url: string) => url.replace(/\/+$/, '');

/** Signs in to the selected context (creating "default" on first use) and keeps the session token. */
export async function login({ o, io, path, print }: SessionRun): Promise<number> {
  const store = await loadStore(path);
  const name = selectedContext(store, o.context, io.env) ?? DEFAULT_CONTEXT;
  const saved = store.contexts[name];
  if (!saved && o.context && !o.url) throw new UsageError(`no context named ${name}: mdm context add ${name} URL`);
  const url = trimUrl(o.url ?? io.env.MDM_URL ?? saved?.url ?? 'http://localhost:8080');
  if (o.token) {
    // a scoped API token instead of a session: kept as the context's token, used as is
    if (!o.token.startsWith('mdmat_')) throw new UsageError('--token takes an API token (mdmat_...): mdm api-token create');
    store.contexts[name] = { url, token: o.token, expiresAt: null, apiToken: true };
    store.current ??= name;
    await saveStore(path, store);
    print({ context: name, url, apiToken: true }, () => io.out(`using an API token for ${url} (context ${name})`));
    return 0;
  }
  const email = o.email ?? io.env.MDM_EMAIL ?? saved?.email ?? 'admin@localhost';
  const password = o.password ?? io.env.MDM_PASSWORD ?? (await io.askPassword?.());
  if (!password) throw new UsageError('give the password with --password, MDM_PASSWORD or at the prompt');
  const res = await new AdminApi(url).request<LoginResponse>('POST', '/api/v1/admin/login', { email, password });
  store.contexts[name] = { url, email, token: res.token, expiresAt: res.expiresAt ?? null };
  store.current ??= name;
  await saveStore(path, store);
  print({ context: name, url, email, expiresAt: res.expiresAt ?? null }, () =>
    io.out(`signed in to ${url} as ${email}${res.expiresAt ? ` until ${res.expiresAt}` : ''} (context ${name})`),
  );
  return 0;
}

export async function logout({ o, io, path }: SessionRun): Promise<number> {
  const store = await loadStore(path);
  const name = selectedContext(store, o.context, io.env);
  const saved = name ? store.contexts[name] : undefined;
  if (saved?.token) {
    await new AdminApi(saved.url, saved.token).request('POST', '/api/v1/admin/logout').catch(() => undefined);
    store.contexts[name!] = { url: saved.url, email: saved.email };
    await saveStore(path, store);
  }
  io.out('signed out');
  return 0;
}

export async function context({ args, io, path, print }: SessionRun): Promise<number> {
  const [sub, name, url, ...rest] = args;
  const store = await loadStore(path);
  const known = (n: string | undefined) => {
    if (!n || !store.contexts[n]) throw new UsageError(`no context named ${n ?? '(none given)'}: mdm context list`);
    return n;
  };
  if (sub === 'list' || sub === undefined) {
    const rows = Object.entries(store.contexts).map(([n, c]) => ({
      name: n,
      current: n === store.current,
      url: c.url,
      email: c.email ?? null,
      signedIn: !!c.token,
    }));
    print(rows, () =>
      table(
        io,
        ['', 'NAME', 'URL', 'SIGNED IN AS'],
        rows.map((r) => [r.current ? '*' : '', r.name, r.url, r.signedIn ? r.email! : '-']),
      ),
    );
    return 0;
  }
  if (sub === 'add') {
    if (!name || !url || rest.length) throw new UsageError('context add takes a NAME and a URL');
    if (!NAME.test(name)) throw new UsageError('a context name is letters, digits, _ . - (up to 64)');
    if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`${url} is not an http:// or https:// URL`);
    const before = store.contexts[name];
    // the same server keeps its session; a new one needs a new sign-in
    store.contexts[name] = before && before.url === trimUrl(url) ? before : { url: trimUrl(url), email: before?.email };
    store.current ??= name;
    await saveStore(path, store);
    io.out(`context ${name}: ${trimUrl(url)}${store.current === name ? ' (in use)' : ` (mdm context use ${name})`}`);
    return 0;
  }
  if (sub === 'use') {
    store.current = known(name);
    await saveStore(path, store);
    const c = store.contexts[name!]!;
    io.out(`using ${name}: ${c.url}${c.token ? '' : ` - not signed in yet: mdm login`}`);
    return 0;
  }
  if (sub === 'remove') {
    const gone = store.contexts[known(name)]!;
    if (gone.token) await new AdminApi(gone.url, gone.token).request('POST', '/api/v1/admin/logout').catch(() => undefined);
    delete store.contexts[name!];
    if (store.current === name) store.current = null;
    await saveStore(path, store);
    io.out(`forgot ${name}`);
    return 0;
  }
  throw new UsageError(`unknown: context ${sub} (add, use, list or remove)`);
}
