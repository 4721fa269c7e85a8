import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const RULES = fileURLToPath(new URL('../../../docs/prometheus/fleet-mdm.rules.yml', import.meta.url));
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

/** The example alerting rules in docs/ are valid Prometheus rules (Debian's prometheus package brings promtool). */
describe.skipIf(!PROMTOOL)('the example alerting rules', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await promisify(execFile)(PROMTOOL!, ['check', 'rules', RULES]);
    expect(stdout).toMatch(/SUCCESS: 5 rules found/);
  });
});
