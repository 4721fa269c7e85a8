import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiTypes, OUTPUTS } from '../../tools/scripts/gen-api-types.mjs';
import { ROOT } from './helpers/server.js';

/**
 * The console's and the CLI's API types are generated from the server's OpenAPI document: this fails
 * when a zod schema changed and the committed types were not regenerated (or were edited by hand).
 */
describe('generated API types', () => {
  it('match a fresh generation from the server OpenAPI document', async () => {
    const fresh = await generateApiTypes();
    for (const out of OUTPUTS) {
      const committed = await readFile(join(ROOT, out), 'utf8').catch(() => '');
      expect(committed === fresh, `${out} differs from a fresh generation: run \`npm run api:types\` and commit the result`).toBe(true);
    }
  }, 120_000);
});
