import { json, route } from '../core/route.js';
import { agentRelease, createReleaseBody, listReleasesQuery, release, releasePage, uploadQuery } from './apk.schemas.js';
import type { ApkService } from './apk.service.js';

export const apkRoutes = (apk: ApkService) => [
  route({
    method: 'POST',
    path: '/api/v1/admin/apk-releases',
    auth: 'admin',
    tag: 'agent',
    summary: 'Register an agent release: where its APK is hosted, its SHA-256 and signing-certificate checksum',
    body: createReleaseBody,
    response: { status: 201, description: 'Registered', schema: release },
    errors: [409],
    handler: async ({ actor, body, ip }) => json(201, await apk.create(actor, body, ip)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/apk-releases/upload',
    auth: 'admin',
    tag: 'agent',
    summary: 'Upload an agent APK to this server (the body is the file; version in the query); its SHA-256 is computed here',
    query: uploadQuery,
    upload: { contentTypes: ['application/vnd.android.package-archive', 'application/octet-stream'], maxBytes: apk.maxBytes },
    response: { status: 201, description: 'Stored', schema: release },
    errors: [409, 413, 415],
    handler: async ({ actor, query, ip, req }) => json(201, await apk.upload(actor, query, req.body!, ip)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/apk-releases',
    auth: 'viewer',
    tag: 'agent',
    summary: 'List agent releases, newest version first, with download counts',
    query: listReleasesQuery,
    response: { status: 200, description: 'Releases', schema: releasePage },
    handler: async ({ query }) => json(200, await apk.list(query)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/agent-release',
    auth: 'viewer',
    tag: 'agent',
    summary: 'The agent package, admin component, download URL and checksums for ADB and QR provisioning',
    response: { status: 200, description: 'The current agent', schema: agentRelease },
    handler: async () => json(200, await apk.agentInfo()),
  }),
  route({
    method: 'GET',
    path: '/api/v1/apk/latest',
    auth: 'public',
    tag: 'device',
    summary: 'Download the newest agent APK (recorded; served from here, or redirected to where it is hosted)',
    response: {
      status: 200,
      description: 'The APK (or 302 to where it is hosted)',
      contentType: 'application/vnd.android.package-archive',
    },
    errors: [302, 404],
    handler: async ({ ip, req }) => {
      const ua = req.headers['user-agent'];
      const r = await apk.download(ip, Array.isArray(ua) ? ua[0] : ua);
      const headers = { 'cache-control': 'no-store', 'x-apk-sha256': r.sha256, 'x-apk-version-code': String(r.versionCode) };
      if ('url' in r) return { status: 302, headers: { ...headers, location: r.url } };
      return {
        status: 200,
        bytes: r.content,
        contentType: 'application/vnd.android.package-archive',
        headers: {
          ...headers,
          'content-disposition': `attachment; filename="fleet-mdm-agent-${r.versionName.replace(/[^\w.-]/g, '_')}.apk"`,
        },
      };
    },
  }),
];
