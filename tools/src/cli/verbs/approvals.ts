import type { ApprovalView } from '../api-types.js';
import { ago, table, UsageError } from '../output.js';
import type { Run } from './verb.js';

/** Resolves an approval request by id or unique prefix (pending ones first). */
async function resolveApproval({ api }: Run, typed: string): Promise<string> {
  const { items } = await api.get<{ items: ApprovalView[] }>('/api/v1/admin/command-approvals');
  const hits = items.filter((a) => a.id.startsWith(typed.toLowerCase()));
  if (hits.length !== 1)
    throw new UsageError(hits.length ? `${typed} names ${hits.length} requests: give more of the id` : `no approval request ${typed}`);
  return hits[0]!.id;
}

/** WIPE requests waiting for (or decided by) a second admin. */
export async function listApprovals({ o, io, api, print }: Run): Promise<number> {
  const q = o.all ? '' : '?status=pending';
  const { items } = await api.get<{ items: ApprovalView[] }>(`/api/v1/admin/command-approvals${q}`);
  print(items, () =>
    table(
      io,
      ['ID', 'TYPE', 'TARGET', 'COUNT', 'STATUS', 'REQUESTED BY', 'REQUESTED'],
      items.map((a) => [a.id, a.type, a.target, String(a.count), a.status, a.requestedBy.email, ago(a.requestedAt)]),
    ),
  );
  return 0;
}

export async function approve(r: Run): Promise<number> {
  if (r.args.length !== 1) throw new UsageError('approvals approve takes one request id');
  const id = await resolveApproval(r, r.args[0]!);
  const a = await r.api.request<ApprovalView>('POST', `/api/v1/admin/command-approvals/${id}/approve`);
  r.print(a, () => r.io.out(`approved: ${a.type} queued for ${a.count} devices (batch ${a.batchId})`));
  return 0;
}

export async function reject(r: Run): Promise<number> {
  if (r.args.length !== 1) throw new UsageError('approvals reject takes one request id');
  const id = await resolveApproval(r, r.args[0]!);
  const a = await r.api.request<ApprovalView>(
    'POST',
    `/api/v1/admin/command-approvals/${id}/reject`,
    r.o.reason ? { reason: r.o.reason } : {},
  );
  r.print(a, () => r.io.out(`rejected: ${a.type} to ${a.count} devices is not sent`));
  return 0;
}
