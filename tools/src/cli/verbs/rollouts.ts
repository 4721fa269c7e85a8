import type { CreateRolloutBody, Page, ReleaseView, RolloutView } from '../api-types.js';
import { UsageError } from '../output.js';
import type { Run } from './verb.js';

/** `mdm rollouts`: staged rollouts of catalog releases (docs/rollouts.md). */

const line = (r: RolloutView) => {
  const wave = r.currentWave === null ? '' : ` wave ${r.currentWave + 1}/${r.waves.length}`;
  return (
    `${r.id.slice(0, 8)} ${r.state}${wave} ${r.name}: ${r.packageName} ${r.from.versionCode} -> ${r.to.versionCode} ` +
    `(${r.group ?? 'fleet'}, ${r.devices} devices)${r.pausedReason ? ` - ${r.pausedReason}` : ''}`
  );
};
const waveLine = (w: RolloutView['waves'][number]) =>
  `  wave ${w.index + 1}: ${w.state}, ${w.devices} devices, ${w.updated} updated, ${w.pending} pending, ${w.failed} failed` +
  (w.rollbackSent ? `, ${w.rolledBack}/${w.rollbackSent} rolled back` : '') +
  (w.verdict
    ? ` - gate ${w.verdict.passed ? 'passed' : 'failed'}${w.verdict.reasons.length ? `: ${w.verdict.reasons.join('; ')}` : ''}`
    : '');

const show = (r: Run, x: RolloutView) =>
  r.print(x, () => {
    r.io.out(line(x));
    x.waves.forEach((w) => r.io.out(waveLine(w)));
  });

/** A rollout or release by its id or a unique prefix of it. */
async function resolve<T extends { id: string }>({ api }: Run, path: string, typed: string, what: string): Promise<string> {
  const { items } = await api.get<Page<T>>(path);
  const hits = items.filter((x) => x.id.startsWith(typed.toLowerCase()));
  if (hits.length === 1) return hits[0]!.id;
  throw new UsageError(hits.length ? `${typed} matches ${hits.length} ${what}s: give more of the id` : `no ${what} ${typed}`);
}

export async function listRollouts(r: Run): Promise<number> {
  if (r.args.length) throw new UsageError(`unknown: rollouts ${r.args.join(' ')}`);
  const { items } = await r.api.get<Page<RolloutView>>('/api/v1/admin/rollouts?limit=200');
  r.print(items, () => (items.length ? items.forEach((x) => r.io.out(line(x))) : r.io.out('no rollouts: mdm rollouts start')));
  return 0;
}

export async function startRollout(r: Run): Promise<number> {
  const { o } = r;
  if (!o.from || !o.to || !o.waves || !o.soak) {
    throw new UsageError('rollouts start needs --from RELEASE --to RELEASE --waves 1,10,50,100 --soak SEC [--group G] [--name N]');
  }
  const waves = o.waves.split(',').map((s) => Number(s.trim()));
  if (waves.some((p) => !Number.isInteger(p) || p < 1 || p > 100)) throw new UsageError('--waves takes percents 1-100, e.g. 1,10,50,100');
  const soakSec = Number(o.soak);
  if (!Number.isInteger(soakSec) || soakSec < 1) throw new UsageError('--soak takes whole seconds');
  const release = (id: string) => resolve<ReleaseView>(r, '/api/v1/admin/releases?limit=500', id, 'release');
  const body: CreateRolloutBody = {
    name: o.name ?? `rollout ${new Date().toISOString().slice(0, 16)}`,
    fromReleaseId: await release(o.from),
    toReleaseId: await release(o.to),
    waves: waves.map((percent) => ({ percent })),
    soakSec,
    rollbackOnFailure: !o['no-rollback'],
    allowDowngrade: o['allow-downgrade'] ?? false,
    start: true,
  };
  if (o.group) body.group = o.group;
  show(r, await r.api.request<RolloutView>('POST', '/api/v1/admin/rollouts', body));
  return 0;
}

export async function showRollout(r: Run): Promise<number> {
  if (r.args.length !== 1) throw new UsageError('rollouts show takes one rollout id (or a prefix of it)');
  const id = await resolve<RolloutView>(r, '/api/v1/admin/rollouts?limit=200', r.args[0]!, 'rollout');
  show(r, await r.api.get<RolloutView>(`/api/v1/admin/rollouts/${id}`));
  return 0;
}

/** pause, resume, abort, promote, rollback: one rollout id, an optional --reason. */
export const rolloutAction =
  (verb: 'pause' | 'resume' | 'abort' | 'promote' | 'rollback') =>
  async (r: Run): Promise<number> => {
    if (r.args.length !== 1) throw new UsageError(`rollouts ${verb} takes one rollout id (or a prefix of it)`);
    const id = await resolve<RolloutView>(r, '/api/v1/admin/rollouts?limit=200', r.args[0]!, 'rollout');
    show(r, await r.api.request<RolloutView>('POST', `/api/v1/admin/rollouts/${id}/${verb}`, r.o.reason ? { reason: r.o.reason } : {}));
    return 0;
  };
