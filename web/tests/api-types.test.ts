import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchOpenApiDocument, OUTPUTS, typesFromDocument } from '../../tools/scripts/gen-api-types.mjs';
import { GROUP_NAME, MAX_USES, TAG_NAME, THRESHOLD_LIMITS } from '../src/lib/validation.js';
import { ROOT } from './helpers/server.js';

/**
 * The console's and the CLI's API types are generated from the server's OpenAPI document: this fails
 * when a zod schema changed and the committed types were not regenerated (or were edited by hand).
 * The console's client-side form checks are held to the same document.
 */
type Schema = {
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
};
type Doc = { paths: Record<string, Record<string, { requestBody: { content: { 'application/json': { schema: Schema } } } }>> };

describe('generated API types', () => {
  let doc: Doc;
  beforeAll(async () => {
    doc = (await fetchOpenApiDocument()) as unknown as Doc;
  }, 120_000);

  it('match a fresh generation from the server OpenAPI document', async () => {
    const fresh = await typesFromDocument(doc as unknown as Record<string, unknown>);
    for (const out of OUTPUTS) {
      const committed = await readFile(join(ROOT, out), 'utf8').catch(() => '');
      expect(committed === fresh, `${out} differs from a fresh generation: run \`npm run api:types\` and commit the result`).toBe(true);
    }
  });

  it('the console checks forms with the server schemas’ own patterns and limits', () => {
    const body = (path: string, method: string) => doc.paths[path]![method]!.requestBody.content['application/json'].schema.properties!;
    const token = body('/api/v1/admin/enrollment-tokens', 'post');
    expect(GROUP_NAME.source).toBe(token.group!.pattern);
    expect(TAG_NAME.source).toBe(token.tags!.items!.pattern);
    expect(MAX_USES).toEqual([token.maxUses!.minimum, token.maxUses!.maximum]);
    const device = body('/api/v1/admin/devices/{id}', 'patch');
    expect(GROUP_NAME.source).toBe(device.group!.anyOf![0]!.pattern);
    expect(TAG_NAME.source).toBe(device.tags!.items!.pattern);
    const thresholds = body('/api/v1/admin/settings/alerts', 'put').thresholds!.properties!;
    expect(THRESHOLD_LIMITS).toEqual(Object.fromEntries(Object.entries(thresholds).map(([k, s]) => [k, [s.minimum, s.maximum]])));
  });
});
