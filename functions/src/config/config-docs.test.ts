import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { configSchema, renderConfigDocs } from './config.js';

const DOC = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

it('docs/configuration.md lists every setting as the schema declares it', async () => {
  const rendered = renderConfigDocs();
  if (process.env.UPDATE_DOCS === '1') await writeFile(DOC, rendered);
  expect(await readFile(DOC, 'utf8')).toBe(rendered);
  for (const key of Object.keys(configSchema.shape)) expect(rendered).toContain(`| \`${key}\` |`);
});
