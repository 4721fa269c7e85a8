import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../ports/db.js';

/** The catalog's SQL: releases (`apk_releases`), their downloads and the pinned signers (`catalog_packages`). */

export interface NewReleaseRow {
  id: string;
  packageName: string;
  versionCode: number;
  versionName: string;
  minSdk: number;
  targetSdk: number | null;
  signerSha256: string;
  scheme: 'v2' | 'v3';
  sha256: string;
  sizeBytes: number;
  blobKey: string;
  notes: string | null;
  createdAt: Date;
  createdBy: string | null;
}

/** The package's pin, locked for the transaction; created with `signer` when the package is new. */
export async function lockPackage(trx: Transaction<Database>, packageName: string, signer: string, now: Date, by: string | null) {
  const created = await trx
    .insertInto('catalog_packages')
    .values({ package_name: packageName, signer_sha256: signer, pinned_at: now, pinned_by: by })
    .onConflict((oc) => oc.column('package_name').doNothing())
    .returning('signer_sha256')
    .executeTakeFirst();
  const row = await trx
    .selectFrom('catalog_packages')
    .select('signer_sha256')
    .where('package_name', '=', packageName)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { signerSha256: row.signer_sha256, created: created !== undefined };
}

/** The highest versionCode of the package's releases (bad ones too: a version number is never reused). */
export async function highestVersion(trx: Transaction<Database>, packageName: string): Promise<number | null> {
  const row = await trx
    .selectFrom('apk_releases')
    .select((eb) => eb.fn.max('version_code').as('v'))
    .where('package_name', '=', packageName)
    .executeTakeFirst();
  return row?.v ?? null;
}

export async function versionExists(trx: Transaction<Database>, packageName: string, versionCode: number): Promise<boolean> {
  const row = await trx
    .selectFrom('apk_releases')
    .select('id')
    .where('package_name', '=', packageName)
    .where('version_code', '=', versionCode)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertRelease(trx: Transaction<Database>, r: NewReleaseRow): Promise<void> {
  await trx
    .insertInto('apk_releases')
    .values({
      id: r.id,
      package_name: r.packageName,
      version_code: r.versionCode,
      version_name: r.versionName,
      min_sdk: r.minSdk,
      target_sdk: r.targetSdk,
      signer_sha256: r.signerSha256,
      signature_scheme: r.scheme,
      sha256: r.sha256,
      size_bytes: r.sizeBytes,
      blob_key: r.blobKey,
      url: null,
      content: null,
      notes: r.notes,
      created_at: r.createdAt,
      created_by: r.createdBy,
    })
    .execute();
}

/** Releases as listed (never their bytes), newest first; legacy rows (unparsed) are left out. */
export function listReleases(db: Db, q: { id?: string; packageName?: string; limit: number }) {
  let query = db
    .selectFrom('apk_releases as r')
    .leftJoin('admins as a', 'a.id', 'r.created_by')
    .leftJoin('admins as b', 'b.id', 'r.bad_by')
    .select((eb) => [
      'r.id',
      'r.package_name',
      'r.version_code',
      'r.version_name',
      'r.min_sdk',
      'r.target_sdk',
      'r.signer_sha256',
      'r.signature_scheme',
      'r.size_bytes',
      'r.sha256',
      'r.notes',
      'r.created_at',
      'r.bad_at',
      'r.bad_reason',
      'a.email as created_by_email',
      'b.email as bad_by_email',
      eb
        .selectFrom('apk_downloads as d')
        .whereRef('d.release_id', '=', 'r.id')
        .select(sql<string>`count(*)`.as('n'))
        .as('downloads'),
    ])
    .where('r.package_name', 'is not', null)
    .orderBy('r.created_at', 'desc')
    .orderBy('r.id', 'desc')
    .limit(q.limit);
  if (q.id !== undefined) query = query.where('r.id', '=', q.id);
  if (q.packageName !== undefined) query = query.where('r.package_name', '=', q.packageName);
  return query.execute();
}

/**
 * How many devices run each version of the packages: the kiosk app's reported package and
 * versionCode, and the agent's reported versionName. One grouped pass over the devices.
 */
export async function devicesPerVersion(db: Db, packages: string[], agentPackage: string) {
  const apps =
    packages.length === 0
      ? []
      : await db
          .selectFrom('devices')
          .select(['app_package', 'app_version_code', (eb) => eb.fn.countAll<string>().as('n')])
          .where('app_package', 'in', packages)
          .groupBy(['app_package', 'app_version_code'])
          .execute();
  const agents = packages.includes(agentPackage)
    ? await db
        .selectFrom('devices')
        .select(['agent_version', (eb) => eb.fn.countAll<string>().as('n')])
        .groupBy('agent_version')
        .execute()
    : [];
  return {
    app: new Map(apps.map((r) => [`${r.app_package} ${r.app_version_code}`, Number(r.n)])),
    agent: new Map(agents.map((r) => [r.agent_version, Number(r.n)])),
  };
}

/** The newest good release of a package, without its bytes. */
export function latestGood(db: Db, packageName: string) {
  return db
    .selectFrom('apk_releases')
    .select(['id', 'version_code', 'version_name', 'sha256', 'signer_sha256', 'blob_key'])
    .where('package_name', '=', packageName)
    .where('bad_at', 'is', null)
    .orderBy('version_code', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function findRelease(db: Db, id: string) {
  return db
    .selectFrom('apk_releases')
    .select(['id', 'package_name', 'version_code', 'version_name', 'sha256', 'signer_sha256', 'blob_key', 'bad_at'])
    .where('id', '=', id)
    .where('package_name', 'is not', null)
    .executeTakeFirst();
}

export async function markBad(trx: Transaction<Database>, id: string, reason: string, by: string | null, now: Date) {
  return trx
    .updateTable('apk_releases')
    .set({ bad_at: now, bad_reason: reason, bad_by: by })
    .where('id', '=', id)
    .where('bad_at', 'is', null)
    .where('package_name', 'is not', null)
    .returning(['package_name', 'version_code'])
    .executeTakeFirst();
}

export function recordDownload(db: Db, releaseId: string, at: Date, ip: string, userAgent: string | undefined) {
  return db
    .insertInto('apk_downloads')
    .values({ release_id: releaseId, at, ip, user_agent: userAgent?.slice(0, 256) ?? null })
    .execute();
}

export function listPackages(db: Db) {
  return db
    .selectFrom('catalog_packages as p')
    .leftJoin('admins as a', 'a.id', 'p.pinned_by')
    .select((eb) => [
      'p.package_name',
      'p.signer_sha256',
      'p.pinned_at',
      'a.email as pinned_by_email',
      eb
        .selectFrom('apk_releases as r')
        .whereRef('r.package_name', '=', 'p.package_name')
        .select(sql<string>`count(*)`.as('n'))
        .as('releases'),
      eb
        .selectFrom('apk_releases as r')
        .whereRef('r.package_name', '=', 'p.package_name')
        .where('r.bad_at', 'is', null)
        .select((e) => e.fn.max('r.version_code').as('v'))
        .as('latest_version_code'),
    ])
    .orderBy('p.package_name')
    .execute();
}

/** Moves the pin; returns the previous signer, or undefined when the package is unknown. */
export async function repin(trx: Transaction<Database>, packageName: string, signer: string, now: Date, by: string) {
  const before = await trx
    .selectFrom('catalog_packages')
    .select('signer_sha256')
    .where('package_name', '=', packageName)
    .forUpdate()
    .executeTakeFirst();
  if (!before) return undefined;
  await trx
    .updateTable('catalog_packages')
    .set({ signer_sha256: signer, pinned_at: now, pinned_by: by })
    .where('package_name', '=', packageName)
    .execute();
  return before.signer_sha256;
}
