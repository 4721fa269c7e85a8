import { json, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import { bulkResult, moveDevicesBody, replaceBody, replaceResult, retireBody, retireResult, tagDevicesBody } from './lifecycle.schemas.js';
import type { LifecycleService } from './lifecycle.service.js';

export const lifecycleRoutes = (lifecycle: LifecycleService) => [
  route({
    method: 'POST',
    path: '/api/v1/admin/devices/{id}/retire',
    auth: 'admin',
    tag: 'devices',
    summary:
      'Retire a device: its credentials stop working (after a signed WIPE or RELEASE_OWNER reached it, with wipe: true or releaseOwner: true); its history stays',
    params: idParams,
    body: retireBody,
    response: { status: 200, description: 'The device is retiring or retired', schema: retireResult },
    errors: [400, 404, 409],
    handler: async ({ actor, params, body, ip }) => json(200, await lifecycle.retire(actor, params.id, body, ip)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/admin/devices/{id}',
    auth: 'admin',
    tag: 'devices',
    summary: 'Delete a retired device with its heartbeats, commands and alerts (the audit log keeps its entries)',
    params: idParams,
    response: { status: 204, description: 'Deleted' },
    errors: [404, 409],
    handler: async ({ actor, params, ip }) => {
      await lifecycle.remove(actor, params.id, ip);
      return { status: 204 };
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/devices/{id}/replace',
    auth: 'admin',
    tag: 'devices',
    summary: 'A new device takes over the name, group and tags of this retired or offline one, which is retired',
    params: idParams,
    body: replaceBody,
    response: { status: 200, description: 'What the new device took over', schema: replaceResult },
    errors: [404, 409],
    handler: async ({ actor, params, body, ip }) => json(200, await lifecycle.replace(actor, params.id, body.newDeviceId, ip)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/devices/move',
    auth: 'operator',
    tag: 'devices',
    summary: 'Move devices to a group, all or none (dryRun: only count them)',
    body: moveDevicesBody,
    response: { status: 200, description: 'How many devices were named and how many changed', schema: bulkResult },
    errors: [404, 409],
    handler: async ({ actor, body, ip }) => json(200, await lifecycle.move(actor, body, ip)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/devices/tags',
    auth: 'operator',
    tag: 'devices',
    summary: 'Add and remove tags on devices, all or none (dryRun: only count them)',
    body: tagDevicesBody,
    response: { status: 200, description: 'How many devices were named and how many changed', schema: bulkResult },
    errors: [404, 409],
    handler: async ({ actor, body, ip }) => json(200, await lifecycle.tag(actor, body, ip)),
  }),
];
