import { json, route, type HttpRequest, type Reply } from '../core/route.js';
import {
  agentRelease,
  listReleasesQuery,
  markBadBody,
  packageList,
  catalogPackage,
  packageParams,
  release,
  releasePage,
  releaseParams,
  rotateSignerBody,
  registerBody,
  uploadQuery,
} from './catalog.schemas.js';
import type { CatalogService } from './catalog.service.js';
import type { ReleaseIntake } from './release-intake.js';

const APK_TYPES = ['application/vnd.android.package-archive', 'application/octet-stream'];

const userAgent = (req: HttpRequest) => {
  const ua = req.headers['user-agent'];
  return Array.isArray(ua) ? ua[0] : ua;
};

/** An APK download: the bytes with their SHA-256 and signer digest, never cached. */
function apkReply(r: Awaited<ReturnType<CatalogService['download']>>): Reply {
  return {
    status: 200,
    bytes: r.content,
    contentType: 'application/vnd.android.package-archive',
    headers: {
      'cache-control': 'no-store',
      'x-apk-sha256': r.sha256,
      'x-apk-signer-sha256': r.signerSha256,
      'x-apk-version-code': String(r.versionCode),
      'content-disposition': `attachment; filename="${r.packageName}-${r.versionName.replace(/[^\w.-]/g, '_')}.apk"`,
    },
  };
}

export const catalogRoutes = (catalog: CatalogService, intake: ReleaseIntake) => {
  const upload = (path: `/${string}`, summary: string) =>
    route({
      method: 'POST',
      path,
      auth: 'admin',
      scope: 'releases:write',
      tag: 'catalog',
      summary,
      query: uploadQuery,
      upload: { contentTypes: APK_TYPES, maxBytes: intake.maxBytes },
      response: { status: 201, description: 'Stored', schema: release },
      errors: [409, 413, 415, 429],
      // the body as the host has it: a stream being received (standalone), or bytes already read (Firebase)
      handler: async ({ actor, query, ip, req }) =>
        json(201, await catalog.get(await intake.upload(actor, query, req.bodyStream ?? req.body ?? Buffer.alloc(0), ip))),
    });
  return [
    upload(
      '/api/v1/admin/releases',
      'Upload an APK (the body is the file): parsed here, its signer pinned per package, stored and served from here',
    ),
    upload('/api/v1/admin/apk-releases/upload', "The agent pipeline's upload path: the same as POST /api/v1/admin/releases"),
    route({
      method: 'POST',
      path: '/api/v1/admin/releases/register',
      auth: 'admin',
      scope: 'releases:write',
      tag: 'catalog',
      summary:
        'Register a release by https URL: the server downloads the APK through its egress policy, then treats it exactly as an upload (parsed, signer pinned, stored and served from here)',
      body: registerBody,
      response: { status: 201, description: 'Stored', schema: release },
      errors: [409, 413, 422, 429],
      handler: async ({ actor, body, ip }) => json(201, await catalog.get(await intake.register(actor, body, ip))),
    }),
    route({
      method: 'GET',
      path: '/api/v1/admin/releases',
      auth: 'viewer',
      scope: 'releases:read',
      tag: 'catalog',
      summary: 'Catalog releases, newest first, with downloads and the devices running each',
      query: listReleasesQuery,
      response: { status: 200, description: 'Releases', schema: releasePage },
      handler: async ({ query }) => json(200, await catalog.list(query)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/admin/releases/{id}',
      auth: 'viewer',
      scope: 'releases:read',
      tag: 'catalog',
      summary: 'One release',
      params: releaseParams,
      response: { status: 200, description: 'The release', schema: release },
      errors: [404],
      handler: async ({ params }) => json(200, await catalog.get(params.id)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/admin/releases/{id}/bad',
      auth: 'admin',
      scope: 'releases:write',
      tag: 'catalog',
      summary: 'Mark a release bad: never installed or served again (audited with the reason)',
      params: releaseParams,
      body: markBadBody,
      response: { status: 200, description: 'The release', schema: release },
      errors: [404],
      handler: async ({ actor, params, body, ip }) => json(200, await catalog.markBad(actor, params.id, body.reason, ip)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/admin/packages',
      auth: 'viewer',
      scope: 'releases:read',
      tag: 'catalog',
      summary: 'Packages in the catalog with their pinned signer',
      response: { status: 200, description: 'Packages', schema: packageList },
      handler: async () => json(200, await catalog.packages()),
    }),
    route({
      method: 'POST',
      path: '/api/v1/admin/packages/{packageName}/signer',
      auth: 'admin',
      tag: 'catalog',
      summary: "Rotate a package's pinned signer to another certificate digest (audited with the reason)",
      params: packageParams,
      body: rotateSignerBody,
      response: { status: 200, description: 'The package', schema: catalogPackage },
      errors: [404, 409],
      handler: async ({ actor, params, body, ip }) => json(200, await catalog.rotateSigner(actor, params.packageName, body, ip)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/admin/agent-release',
      auth: 'viewer',
      scope: 'releases:read',
      tag: 'catalog',
      summary: 'The agent package, admin component, download URL and checksums for ADB and QR provisioning',
      response: { status: 200, description: 'The current agent', schema: agentRelease },
      handler: async () => json(200, await catalog.agentInfo()),
    }),
    route({
      method: 'GET',
      path: '/api/v1/apk/latest',
      auth: 'public',
      tag: 'device',
      summary: 'Download the newest good agent APK (recorded; X-Apk-Sha256 carries its hash)',
      response: { status: 200, description: 'The APK', contentType: 'application/vnd.android.package-archive' },
      errors: [404],
      handler: async ({ ip, req }) => apkReply(await catalog.downloadLatestAgent(ip, userAgent(req))),
    }),
    route({
      method: 'GET',
      path: '/api/v1/releases/{id}/apk',
      auth: 'public',
      tag: 'device',
      summary: "Download a release's APK, as INSTALL_APK names it (recorded; 410 once marked bad)",
      params: releaseParams,
      response: { status: 200, description: 'The APK', contentType: 'application/vnd.android.package-archive' },
      errors: [404, 410],
      handler: async ({ ip, params, req }) => apkReply(await catalog.download(params.id, ip, userAgent(req))),
    }),
  ];
};
