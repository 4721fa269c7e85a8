import type { ApiTokenView, CreatedApiToken } from '../api-types.js';
import { integer, table, UsageError } from '../output.js';
import type { Run } from './verb.js';

/** Body fields as the operator names them, for the server's validation messages. */
export const API_TOKEN_FIELDS = { name: '--name', scopes: '--scope', expiresInSec: '--expires-in' };

/** A named, scoped API token for automation; the secret is printed this once. */
export async function createApiToken({ o, io, api, print }: Run): Promise<number> {
  if (!o.name || !o.scope?.length)
    throw new UsageError('api-token create needs --name NAME and at least one --scope S (e.g. releases:write)');
  const body = { name: o.name, scopes: o.scope, ...(o['expires-in'] ? { expiresInSec: integer('--expires-in', o['expires-in']) } : {}) };
  const t = await api.request<CreatedApiToken>('POST', '/api/v1/admin/api-tokens', body);
  print(t, () => {
    io.out(`token (shown once): ${t.token}`);
    io.out(`scopes: ${t.scopes.join(', ')}; expires: ${t.expiresAt}`);
    io.out('use it with MDM_TOKEN=<token> (and MDM_URL) or: mdm login --token <token>');
  });
  return 0;
}

export async function listApiTokens({ io, api, print }: Run): Promise<number> {
  const { items } = await api.get<{ items: ApiTokenView[] }>('/api/v1/admin/api-tokens');
  print(items, () =>
    table(
      io,
      ['ID', 'NAME', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED'],
      items.map((t) => [t.id, t.name, t.scopes.join(','), t.status, t.expiresAt, t.lastUsedAt ?? '-']),
    ),
  );
  return 0;
}

export async function revokeApiTokens({ args, io, api }: Run): Promise<number> {
  if (args.length === 0) throw new UsageError('api-token revoke takes the ids (or id prefixes) of the tokens');
  const { items } = await api.get<{ items: ApiTokenView[] }>('/api/v1/admin/api-tokens');
  for (const typed of args) {
    const hits = items.filter((t) => t.id.startsWith(typed.toLowerCase()));
    if (hits.length !== 1) throw new UsageError(hits.length ? `${typed} names ${hits.length} tokens` : `no API token ${typed}`);
    await api.request('DELETE', `/api/v1/admin/api-tokens/${hits[0]!.id}`);
    io.out(`revoked ${hits[0]!.id} (${hits[0]!.name})`);
  }
  return 0;
}
