import type { AlertSettingsPatch, AlertSettingsView } from '../api-types.js';
import { UsageError } from '../output.js';
import type { Run } from './verb.js';

const PATH = '/api/v1/admin/settings/alerts';
/** Channel URLs are never shown (GET says only whether they are set) but can be set, or cleared with null. */
const SECRET_URLS: Record<string, string> = { 'channels.discord.webhookUrl': 'webhookUrlSet', 'channels.email.smtpUrl': 'smtpUrlSet' };

type Leaf = number | string | boolean | null | unknown[];

/** The settings as dotted keys, e.g. thresholds.offlineAfterSec -> 720; lists stay whole. */
function flatten(value: unknown, prefix = '', into = new Map<string, Leaf>()): Map<string, Leaf> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, into);
  } else into.set(prefix, value as Leaf);
  return into;
}

const show = (v: Leaf) => (Array.isArray(v) ? v.join(',') : String(v));

export async function getSettings({ args, io, api, print }: Run): Promise<number> {
  const view = await api.get<AlertSettingsView>(PATH);
  const flat = [...flatten(view)].filter(
    ([k]) => args.length === 0 || args.some((a) => k === a || k.startsWith(`${a}.`) || k.endsWith(`.${a}`)),
  );
  if (args.length && flat.length === 0) throw new UsageError(`no setting matches ${args.join(', ')} (mdm settings get lists them)`);
  print(args.length ? Object.fromEntries(flat) : view, () => flat.forEach(([k, v]) => io.out(`${k}=${show(v)}`)));
  return 0;
}

/** Sends only the keys given: PUT takes any part of the settings and keeps the rest. */
export async function setSettings({ args, io, api, print }: Run): Promise<number> {
  if (args.length === 0) throw new UsageError('settings set takes KEY=VALUE ... (mdm settings get lists the keys)');
  const before = flatten(await api.get<AlertSettingsView>(PATH));
  const settable = new Map<string, Leaf>([...before].filter(([k]) => !k.endsWith('UrlSet')));
  for (const k of Object.keys(SECRET_URLS)) settable.set(k, null);
  const patch: AlertSettingsPatch = {};
  const keys: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 1) throw new UsageError(`"${arg}" is not KEY=VALUE`);
    const key = fullKey(settable, arg.slice(0, eq));
    setPath(patch, key, parseValue(key, arg.slice(eq + 1), settable.get(key)!));
    keys.push(key);
  }
  const after = flatten(await api.request<AlertSettingsView>('PUT', PATH, patch));
  print(Object.fromEntries(keys.map((k) => [k, after.get(k) ?? after.get(k.replace(/Url$/, 'UrlSet'))])), () => {
    for (const k of keys) {
      if (SECRET_URLS[k]) io.out(`${k} ${getPath(patch, k) === null ? 'cleared' : 'set'}`);
      else
        io.out(
          `${k}=${show(after.get(k)!)}${show(before.get(k)!) === show(after.get(k)!) ? ' (unchanged)' : ` (was ${show(before.get(k)!) || 'empty'})`}`,
        );
    }
  });
  return 0;
}

/** A full dotted key from what was typed: the key itself or a unique ending of it (offlineAfterSec). */
function fullKey(settable: Map<string, Leaf>, typed: string): string {
  if (settable.has(typed)) return typed;
  const matches = [...settable.keys()].filter((k) => k.endsWith(`.${typed}`));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`"${typed}" could be ${matches.join(' or ')}: give the whole key`);
  throw new UsageError(`there is no setting "${typed}" (mdm settings get lists them)`);
}

function parseValue(key: string, text: string, current: Leaf): Leaf {
  if (SECRET_URLS[key]) return text === '' || text === 'null' || text === 'none' ? null : text;
  if (Array.isArray(current)) return text.trim() === '' ? [] : text.split(',').map((s) => s.trim());
  if (typeof current === 'boolean') {
    if (/^(true|yes|on)$/i.test(text)) return true;
    if (/^(false|no|off)$/i.test(text)) return false;
    throw new UsageError(`${key} is true or false, not "${text}"`);
  }
  if (typeof current === 'number') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${key} takes a number, not "${text}"`);
    return n;
  }
  return text;
}

function setPath(into: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let at = into;
  for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
  at[parts.at(-1)!] = value;
}

function getPath(from: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((at, p) => (at as Record<string, unknown> | undefined)?.[p], from);
}
