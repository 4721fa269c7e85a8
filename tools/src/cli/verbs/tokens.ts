import { writeFile } from 'node:fs/promises';
import type { CreatedToken, CreateTokenBody, TokenView } from '../api-types.js';
import { integer, table, UsageError } from '../output.js';
import { resolveToken } from '../resolve.js';
import type { Run } from './verb.js';

/** Body fields as the operator names them, for the server's validation messages. */
export const TOKEN_FIELDS = { label: '--label', group: '--group', expiresInSec: '--expires-in', maxUses: '--max-uses' };

export async function createToken({ o, io, api, print }: Run): Promise<number> {
  const shell = o.shell ?? 'sh';
  if (shell !== 'sh' && shell !== 'ps1') throw new UsageError('--shell is sh or ps1');
  const body: CreateTokenBody = {};
  if (o.label) body.label = o.label;
  if (o.group) body.group = o.group;
  if (o['expires-in']) body.expiresInSec = integer('--expires-in', o['expires-in']);
  if (o['max-uses']) body.maxUses = integer('--max-uses', o['max-uses']);
  const token = await api.request<CreatedToken>('POST', '/api/v1/admin/enrollment-tokens', body);
  const script = await api.requestText('GET', `/api/v1/admin/enrollment-tokens/${token.id}/adb-script?shell=${shell}`);
  if (o.script) await writeFile(o.script, script, { mode: 0o755 });
  print({ ...token, script: o.script ?? null }, () => {
    io.out(`token (shown once): ${token.token}`);
    io.out(`expires: ${token.expiresAt}`);
    const runIt = shell === 'sh' ? 'sh' : 'powershell -File';
    if (o.script) io.out(`script: ${o.script} - run it with a device attached: ${runIt} ${o.script} ${token.token}`);
    else io.out(`\n${script}`);
  });
  return 0;
}

export async function listTokens({ io, api, print }: Run): Promise<number> {
  const { items } = await api.all<TokenView>('/api/v1/admin/enrollment-tokens');
  print(items, () =>
    table(
      io,
      ['ID', 'LABEL', 'GROUP', 'STATUS', 'USES', 'EXPIRES'],
      items.map((t) => [t.id, t.label, t.group ?? '-', t.status, `${t.uses}/${t.maxUses}`, t.expiresAt]),
    ),
  );
  return 0;
}

export async function revokeTokens({ args, io, api }: Run): Promise<number> {
  if (args.length === 0) throw new UsageError('token revoke takes the ids (or id prefixes) of the tokens to revoke');
  for (const typed of args) {
    const id = await resolveToken(api, typed);
    await api.request('DELETE', `/api/v1/admin/enrollment-tokens/${id}`);
    io.out(`revoked ${id}`);
  }
  return 0;
}
