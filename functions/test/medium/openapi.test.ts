import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, sampleDevice, sampleHeartbeat, type TestApp } from '../helpers/app.js';

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(async () => {
    t = await createTestApp('pglite');
    const res = await t.request('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.json;
  });
  afterAll(() => t.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every route with its security and error responses', () => {
    for (const r of t.app.routes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.responses[String(r.response.status)]).toBeDefined();
      expect(op.responses['400']).toBeDefined();
      if (r.auth === 'public') expect(op.security).toEqual([]);
      else expect(op.responses['401']).toBeDefined();
      if (r.body) expect(op.requestBody.content['application/json'].schema.type).toBe('object');
    }
    expect(Object.values(doc.paths).flatMap((p) => Object.keys(p as object))).toHaveLength(t.app.routes.length);
    expect(doc.paths['/api/v1/admin/devices/{id}'].get.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true })]),
    );
  });

  it('publishes request schemas that accept what the server accepts and reject what it rejects', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const body = (path: string) => ajv.compile(doc.paths[path].post.requestBody.content['application/json'].schema);
    const heartbeat = body('/api/v1/heartbeat');
    expect(heartbeat(sampleHeartbeat(new Date()))).toBe(true);
    expect(heartbeat({ ...sampleHeartbeat(new Date()), battery: { level: 120, charging: false } })).toBe(false);
    const enroll = body('/api/v1/enroll');
    expect(enroll({ enrollmentToken: 'mdmet_x', device: sampleDevice() })).toBe(true);
    expect(enroll({ enrollmentToken: 'mdmet_x' })).toBe(false);
  });
});
