import { ApiError, type AdminApi } from './api.js';
import type { AlertView, CommandView, DeviceListItem, TokenView } from './api-types.js';
import { UsageError } from './output.js';

/**
 * Full ids from what an operator types: a unique prefix of an id (or, for a device, its name or serial).
 * The server takes full UUIDs only, so prefixes are matched here against its list endpoints.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PREFIX = /^[0-9a-f][0-9a-f-]*$/i;
/** How many list items a prefix is matched against before giving up (the lists are newest first). */
const SEARCH_LIMIT = 10_000;

interface Candidate {
  id: string;
  label: string;
}

function pick(kind: string, typed: string, matches: Candidate[], complete: boolean): string {
  const unique = [...new Map(matches.map((m) => [m.id, m])).values()];
  if (unique.length === 1) return unique[0]!.id;
  if (unique.length === 0) {
    const where = complete ? '' : ` among the newest ${SEARCH_LIMIT}; give the full id`;
    throw new ApiError(404, 'not_found', `no ${kind} matches "${typed}"${where}`);
  }
  const shown = unique.slice(0, 10).map((m) => `${m.id} (${m.label})`);
  throw new UsageError(
    `"${typed}" matches ${unique.length} ${kind}s: ${shown.join(', ')}${unique.length > 10 ? ', ...' : ''}; type more of the id`,
  );
}

function checkPrefix(kind: string, typed: string): void {
  if (!PREFIX.test(typed)) throw new UsageError(`"${typed}" is not a ${kind} id or the start of one`);
}

const byPrefix = <T extends { id: string }>(items: T[], typed: string) => items.filter((i) => i.id.startsWith(typed.toLowerCase()));

/**
 * A device from its id, a prefix of it, its name or serial. Retired devices are left out (a device
 * that replaced one keeps its name) unless `retired`: then retired devices are matched first, and
 * the others when none matches (`device delete` and the old device of `device replace`).
 */
export async function resolveDevice(api: AdminApi, typed: string, opts: { retired?: boolean } = {}): Promise<string> {
  if (UUID.test(typed)) return typed.toLowerCase();
  if (opts.retired) {
    try {
      return await matchDevice(api, typed, 'status=retired&');
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
  return matchDevice(api, typed, '');
}

async function matchDevice(api: AdminApi, typed: string, scope: string): Promise<string> {
  const lower = typed.toLowerCase();
  // names and serials through the server's search (a substring match of one column); the displayed name
  // ("Tab A8 CLI1" until renamed) and id prefixes only through the whole list
  const isName = (d: DeviceListItem) => [d.name, d.displayName, d.serial].some((n) => n?.toLowerCase() === lower);
  const found = await api.all<DeviceListItem>(`/api/v1/admin/devices?${scope}q=${encodeURIComponent(typed.slice(0, 100))}`, SEARCH_LIMIT);
  let named = found.items.filter(isName);
  const every =
    named.length === 1 ? { items: [], complete: true } : await api.all<DeviceListItem>(`/api/v1/admin/devices?${scope}`, SEARCH_LIMIT);
  if (named.length === 0) named = every.items.filter(isName);
  const prefixed = PREFIX.test(typed) ? byPrefix(every.items, typed) : [];
  const matches = [...named, ...prefixed];
  if (matches.length === 0 && found.items.length > 0) {
    const near = found.items.slice(0, 5).map((d) => `"${d.displayName}"`);
    throw new ApiError(404, 'not_found', `no device is named "${typed}"; did you mean ${near.join(', ')}?`);
  }
  return pick(
    'device',
    typed,
    matches.map((d) => ({ id: d.id, label: d.displayName })),
    every.complete,
  );
}

export async function resolveCommand(api: AdminApi, typed: string): Promise<string> {
  if (UUID.test(typed)) return typed.toLowerCase();
  checkPrefix('command', typed);
  const { items, complete } = await api.all<CommandView>('/api/v1/admin/commands', SEARCH_LIMIT);
  return pick(
    'command',
    typed,
    byPrefix(items, typed).map((c) => ({ id: c.id, label: `${c.type} ${c.status}` })),
    complete,
  );
}

export async function resolveAlert(api: AdminApi, typed: string): Promise<string> {
  if (UUID.test(typed)) return typed.toLowerCase();
  checkPrefix('alert', typed);
  const { items, complete } = await api.all<AlertView>('/api/v1/admin/alerts', SEARCH_LIMIT);
  return pick(
    'alert',
    typed,
    byPrefix(items, typed).map((a) => ({ id: a.id, label: `${a.kind} on ${a.device.name}` })),
    complete,
  );
}

export async function resolveToken(api: AdminApi, typed: string): Promise<string> {
  if (UUID.test(typed)) return typed.toLowerCase();
  checkPrefix('token', typed);
  const { items, complete } = await api.all<TokenView>('/api/v1/admin/enrollment-tokens', SEARCH_LIMIT);
  return pick(
    'token',
    typed,
    byPrefix(items, typed).map((t) => ({ id: t.id, label: `${t.label || 'no label'}, ${t.status}` })),
    complete,
  );
}
