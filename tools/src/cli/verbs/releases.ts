import { readFile } from 'node:fs/promises';
import type { Page, ReleaseView, PackageView } from '../api-types.js';
import { UsageError } from '../output.js';
import type { Run } from './verb.js';

const APK_TYPE = 'application/vnd.android.package-archive';

const line = (r: ReleaseView) =>
  `${r.id.slice(0, 8)} ${r.packageName} ${r.versionName} (${r.versionCode}) signer ${r.signerSha256.slice(0, 16)}… ` +
  `${r.downloads} downloads, ${r.devices} devices${r.bad ? ` BAD: ${r.bad.reason}` : ''}${r.notes ? ` - ${r.notes}` : ''}`;

/** Finds a release by its id or a unique prefix of it. */
async function resolveRelease({ api }: Run, typed: string): Promise<string> {
  const { items } = await api.get<Page<ReleaseView>>('/api/v1/admin/releases?limit=500');
  const hits = items.filter((r) => r.id.startsWith(typed.toLowerCase()));
  if (hits.length === 1) return hits[0]!.id;
  throw new UsageError(hits.length ? `${typed} matches ${hits.length} releases: give more of the id` : `no release ${typed}: mdm releases`);
}

export async function listReleases(r: Run): Promise<number> {
  if (r.args.length) throw new UsageError(`unknown: releases ${r.args.join(' ')}`);
  const q = r.o.package ? `&package=${encodeURIComponent(r.o.package)}` : '';
  const { items } = await r.api.get<Page<ReleaseView>>(`/api/v1/admin/releases?limit=500${q}`);
  r.print(items, () => (items.length ? items.forEach((x) => r.io.out(line(x))) : r.io.out('no releases: mdm releases upload FILE')));
  return 0;
}

export async function uploadRelease(r: Run): Promise<number> {
  if (r.args.length !== 1) throw new UsageError('releases upload takes one APK file');
  const file = await readFile(r.args[0]!).catch(() => {
    throw new UsageError(`cannot read ${r.args[0]}`);
  });
  const q = new URLSearchParams();
  if (r.o.notes) q.set('notes', r.o.notes);
  if (r.o['allow-downgrade']) q.set('allowDowngrade', 'true');
  const release = await r.api.upload<ReleaseView>(`/api/v1/admin/releases${q.size ? `?${q}` : ''}`, file, APK_TYPE);
  r.print(release, () => {
    r.io.out(`uploaded ${release.packageName} ${release.versionName} (${release.versionCode}) as ${release.id}`);
    r.io.out(`sha256 ${release.sha256}`);
    r.io.out(`signer ${release.signerSha256}`);
  });
  return 0;
}

/** Registers an APK hosted elsewhere: the server downloads it over https, checks it like an upload and serves it itself. */
export async function registerRelease(r: Run): Promise<number> {
  if (r.args.length) throw new UsageError(`unknown: releases register ${r.args.join(' ')}`);
  if (!r.o.url) throw new UsageError('releases register needs --url https://...');
  const body: Record<string, unknown> = { url: r.o.url };
  if (r.o.notes) body.notes = r.o.notes;
  if (r.o['allow-downgrade']) body.allowDowngrade = true;
  const release = await r.api.request<ReleaseView>('POST', '/api/v1/admin/releases/register', body);
  r.print(release, () => {
    r.io.out(`registered ${release.packageName} ${release.versionName} (${release.versionCode}) as ${release.id}`);
    r.io.out(`sha256 ${release.sha256}`);
    r.io.out(`signer ${release.signerSha256}`);
  });
  return 0;
}

export async function markReleaseBad(r: Run): Promise<number> {
  if (r.args.length !== 1) throw new UsageError('releases bad takes one release id (or a prefix of it)');
  if (!r.o.reason) throw new UsageError('releases bad needs --reason TEXT (it is audited)');
  const id = await resolveRelease(r, r.args[0]!);
  const release = await r.api.request<ReleaseView>('POST', `/api/v1/admin/releases/${id}/bad`, { reason: r.o.reason });
  r.print(release, () =>
    r.io.out(`marked ${release.packageName} ${release.versionName} (${release.versionCode}) bad: never installed again`),
  );
  return 0;
}

export async function rotateSigner(r: Run): Promise<number> {
  if (r.args.length !== 1) throw new UsageError('releases rotate-signer takes one package name');
  if (!r.o.signer || !r.o.reason) throw new UsageError('releases rotate-signer needs --signer SHA256 and --reason TEXT');
  const pkg = await r.api.request<PackageView>('POST', `/api/v1/admin/packages/${encodeURIComponent(r.args[0]!)}/signer`, {
    signerSha256: r.o.signer.toLowerCase().replace(/:/g, ''),
    reason: r.o.reason,
  });
  r.print(pkg, () => r.io.out(`${pkg.packageName} now accepts releases signed by ${pkg.signerSha256}`));
  return 0;
}
