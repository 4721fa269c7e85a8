import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AdminApi, ApiError } from './api.js';
import { credentialsPath, forgetCredentials, loadCredentials, saveCredentials } from './store.js';

export const HELP = `Usage: mdm <command> [options]

The fleet's admin API from a terminal. Sign in once; the session is kept in
~/.config/fleet-mdm/cli.json (MDM_CONFIG overrides it), readable by you only.

  login [--url URL] [--email E]          sign in (password from --password, MDM_PASSWORD or the prompt)
  logout                                 forget the session
  admin create --email E --role viewer|operator|admin [--name N] [--password P]
                                         add a console user; a generated password is printed once
  token create [--label L] [--group G] [--expires-in SEC] [--script FILE] [--shell sh|ps1]
                                         a single-use enrollment token and its ADB script
  token list                             enrollment tokens
  devices [--status online|offline] [--group G] [--tag T] [--search Q] [--limit N]
                                         list devices
  command TYPE (--device ID ... | --group G | --tag T | --all) [--params JSON] [--yes]
                                         send a signed command; --yes confirms REBOOT or WIPE to many
  alerts [--all]                         open alerts (--all: resolved ones too)
  alerts tail [--interval SEC]           print alerts as they open and resolve, until Ctrl-C

Every command takes --json for machine-readable output. Exit codes: 0 done, 1 refused or failed, 2 usage.
`;

export class UsageError extends Error {}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Asks for the password when none was given (a TTY prompt in the real CLI). */
  askPassword?: () => Promise<string>;
  signal?: AbortSignal;
}

const OPTIONS = {
  url: { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  role: { type: 'string' },
  name: { type: 'string' },
  label: { type: 'string' },
  group: { type: 'string' },
  tag: { type: 'string' },
  'expires-in': { type: 'string' },
  script: { type: 'string' },
  shell: { type: 'string' },
  status: { type: 'string' },
  search: { type: 'string' },
  limit: { type: 'string' },
  device: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  params: { type: 'string' },
  yes: { type: 'boolean' },
  interval: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one CLI invocation; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const { values: o, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [cmd, sub, ...rest] = positionals;
    if (o.help || !cmd) {
      io.out(HELP);
      return cmd || o.help ? 0 : 2;
    }
    const print = (value: unknown, human: () => void) => (o.json ? io.out(JSON.stringify(value, null, 2)) : human());
    const store = credentialsPath(io.env);

    if (cmd === 'login') {
      const saved = await loadCredentials(store);
      const url = (o.url ?? io.env.MDM_URL ?? saved?.url ?? 'http://localhost:8080').replace(/\/+$/, '');
      const email = o.email ?? io.env.MDM_EMAIL ?? saved?.email ?? 'admin@localhost';
      const password = o.password ?? io.env.MDM_PASSWORD ?? (await io.askPassword?.());
      if (!password) throw new UsageError('give the password with --password, MDM_PASSWORD or at the prompt');
      const res = await new AdminApi(url).request<{ token: string; expiresAt?: string }>('POST', '/api/v1/admin/login', {
        email,
        password,
      });
      await saveCredentials(store, { url, email, token: res.token, expiresAt: res.expiresAt ?? null });
      print({ url, email, expiresAt: res.expiresAt ?? null }, () =>
        io.out(`signed in to ${url} as ${email}${res.expiresAt ? ` until ${res.expiresAt}` : ''}`),
      );
      return 0;
    }
    if (cmd === 'logout') {
      const saved = await loadCredentials(store);
      if (saved) await new AdminApi(saved.url, saved.token).request('POST', '/api/v1/admin/logout').catch(() => undefined);
      await forgetCredentials(store);
      io.out('signed out');
      return 0;
    }

    const saved = await loadCredentials(store);
    if (!saved) throw new ApiError(401, 'not_signed_in', 'sign in first: mdm login --url URL --email E');
    const api = new AdminApi(saved.url, saved.token);

    if (cmd === 'admin' && sub === 'create') {
      if (!o.email || !o.role) throw new UsageError('admin create needs --email and --role');
      const res = await api.request<{ id: string; email: string; role: string; generatedPassword?: string }>(
        'POST',
        '/api/v1/admin/users',
        {
          email: o.email,
          role: o.role,
          ...(o.name ? { name: o.name } : {}),
          ...(o.password ? { password: o.password } : {}),
        },
      );
      print(res, () => {
        io.out(`created ${res.email} (${res.role})`);
        if (res.generatedPassword) io.out(`password (shown once): ${res.generatedPassword}`);
      });
      return 0;
    }

    if (cmd === 'token' && sub === 'create') {
      const shell = o.shell ?? 'sh';
      if (shell !== 'sh' && shell !== 'ps1') throw new UsageError('--shell is sh or ps1');
      const body: Record<string, unknown> = {};
      if (o.label) body.label = o.label;
      if (o.group) body.group = o.group;
      if (o['expires-in']) body.expiresInSec = integer('--expires-in', o['expires-in']);
      const token = await api.request<{ id: string; token: string; expiresAt: string }>('POST', '/api/v1/admin/enrollment-tokens', body);
      const script = await api.requestText('GET', `/api/v1/admin/enrollment-tokens/${token.id}/adb-script?shell=${shell}`);
      if (o.script) await writeFile(o.script, script, { mode: 0o755 });
      print({ ...token, script: o.script ?? null }, () => {
        io.out(`token (shown once): ${token.token}`);
        io.out(`expires: ${token.expiresAt}`);
        if (o.script)
          io.out(
            `script: ${o.script} - run it with a device attached: ${shell === 'sh' ? 'sh' : 'powershell -File'} ${o.script} ${token.token}`,
          );
        else io.out(`\n${script}`);
      });
      return 0;
    }
    if (cmd === 'token' && sub === 'list') {
      const res = await api.request<{
        items: { id: string; label: string; group: string | null; status: string; expiresAt: string; uses?: number }[];
      }>('GET', '/api/v1/admin/enrollment-tokens?limit=100');
      print(res.items, () =>
        table(
          io,
          ['ID', 'LABEL', 'GROUP', 'STATUS', 'EXPIRES'],
          res.items.map((t) => [t.id, t.label, t.group ?? '-', t.status, t.expiresAt]),
        ),
      );
      return 0;
    }

    if (cmd === 'devices') {
      if (sub) throw new UsageError(`unknown: devices ${sub}`);
      const q = new URLSearchParams({ limit: String(o.limit ? integer('--limit', o.limit) : 100) });
      if (o.status) q.set('status', o.status);
      if (o.tag) q.set('tag', o.tag);
      if (o.search) q.set('q', o.search);
      if (o.group) {
        const groups = await api.request<{ items: { id: string; name: string }[] }>('GET', '/api/v1/admin/groups');
        const g = groups.items.find((x) => x.name === o.group);
        if (!g) throw new ApiError(404, 'no_such_group', `no group named ${o.group}`);
        q.set('groupId', g.id);
      }
      type Device = {
        id: string;
        displayName: string;
        status: string;
        battery: { level: number } | null;
        app: { running: boolean; foreground: boolean } | null;
        lastSeenAt: string | null;
        group: { name: string } | null;
      };
      const res = await api.request<{ items: Device[] }>('GET', `/api/v1/admin/devices?${q}`);
      print(res.items, () =>
        table(
          io,
          ['ID', 'NAME', 'STATUS', 'BATTERY', 'APP', 'GROUP', 'LAST SEEN'],
          res.items.map((d) => [
            d.id,
            d.displayName,
            d.status,
            d.battery ? `${d.battery.level}%` : '-',
            d.app ? (d.app.running && d.app.foreground ? 'running' : 'down') : '-',
            d.group?.name ?? '-',
            d.lastSeenAt ? ago(d.lastSeenAt) : 'never',
          ]),
        ),
      );
      return 0;
    }

    if (cmd === 'command') {
      if (!sub || rest.length) throw new UsageError('command takes one TYPE, e.g. mdm command REBOOT --device ID');
      const type = sub.toUpperCase();
      const targets = [o.device?.length ? 1 : 0, o.group ? 1 : 0, o.tag ? 1 : 0, o.all ? 1 : 0].reduce((a, b) => a + b, 0);
      if (targets !== 1) throw new UsageError('name exactly one target: --device ID (repeatable), --group G, --tag T or --all');
      let params: unknown;
      if (o.params) {
        try {
          params = JSON.parse(o.params);
        } catch {
          throw new UsageError('--params must be a JSON object');
        }
      }
      const body = {
        type,
        ...(params === undefined ? {} : { params }),
        ...(o.device?.length ? { deviceIds: o.device } : o.group ? { group: o.group } : o.tag ? { tag: o.tag } : { all: true }),
        ...(o.yes ? { confirm: type } : {}),
      };
      const res = await api.request<{ commands: { id: string; deviceId: string; status: string }[]; count?: number }>(
        'POST',
        '/api/v1/admin/commands',
        body,
      );
      print(res, () =>
        io.out(
          `${type} queued for ${res.count ?? res.commands.length} device(s)${
            res.commands.length
              ? ': ' +
                res.commands
                  .slice(0, 5)
                  .map((c) => c.id)
                  .join(', ') +
                (res.commands.length > 5 ? ', ...' : '')
              : ''
          }`,
        ),
      );
      return 0;
    }

    if (cmd === 'alerts') {
      type Alert = {
        id: string;
        kind: string;
        status: string;
        device: { id: string; name: string; group: string | null };
        openedAt: string;
        resolvedAt: string | null;
      };
      const list = async (status?: string) =>
        (await api.request<{ items: Alert[] }>('GET', `/api/v1/admin/alerts?limit=500${status ? `&status=${status}` : ''}`)).items;
      const line = (a: Alert) =>
        `${a.status === 'open' ? 'OPEN    ' : 'RESOLVED'} ${a.kind.padEnd(11)} ${a.device.name}${a.device.group ? ` (${a.device.group})` : ''} since ${a.openedAt}${a.resolvedAt ? `, resolved ${a.resolvedAt}` : ''}`;
      if (sub === 'tail') {
        const every = o.interval ? integer('--interval', o.interval) : 10;
        const seen = new Map<string, string>();
        for (const a of await list('open')) {
          seen.set(a.id, a.status);
          io.out(o.json ? JSON.stringify(a) : line(a));
        }
        while (!io.signal?.aborted) {
          await sleep(every * 1000, io.signal);
          if (io.signal?.aborted) break;
          for (const a of (await list()).reverse()) {
            if (seen.get(a.id) === a.status) continue;
            if (!seen.has(a.id) && a.status === 'resolved') {
              seen.set(a.id, a.status); // resolved before we started watching
              continue;
            }
            seen.set(a.id, a.status);
            io.out(o.json ? JSON.stringify(a) : line(a));
          }
        }
        return 0;
      }
      if (sub) throw new UsageError(`unknown: alerts ${sub}`);
      const alerts = await list(o.all ? undefined : 'open');
      print(alerts, () => (alerts.length ? alerts.forEach((a) => io.out(line(a))) : io.out(o.all ? 'no alerts' : 'no open alerts')));
      return 0;
    }

    throw new UsageError(`unknown command: ${[cmd, sub].filter(Boolean).join(' ')} (mdm --help)`);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`mdm: ${(err as Error).message}`);
      return 2;
    }
    if (err instanceof ApiError) {
      io.err(`mdm: ${err.message}${err.status === 401 && err.code !== 'not_signed_in' ? ' (mdm login to sign in again)' : ''}`);
      return 1;
    }
    throw err;
  }
}

function integer(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number`);
  return n;
}

function table(io: Io, head: string[], rows: string[][]): void {
  if (rows.length === 0) {
    io.out('(none)');
    return;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [head, ...rows])
    io.out(
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
