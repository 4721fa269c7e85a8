import { parseArgs } from 'node:util';
import type { AdminApi } from '../api.js';
import type { Io } from '../output.js';

export const OPTIONS = {
  context: { type: 'string' },
  url: { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  role: { type: 'string' },
  name: { type: 'string' },
  label: { type: 'string' },
  group: { type: 'string' },
  tag: { type: 'string' },
  'expires-in': { type: 'string' },
  'max-uses': { type: 'string' },
  script: { type: 'string' },
  shell: { type: 'string' },
  status: { type: 'string' },
  search: { type: 'string' },
  limit: { type: 'string' },
  device: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  params: { type: 'string' },
  notes: { type: 'string' },
  reason: { type: 'string' },
  batch: { type: 'string' },
  scope: { type: 'string', multiple: true },
  token: { type: 'string' },
  signer: { type: 'string' },
  package: { type: 'string' },
  'allow-downgrade': { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  waves: { type: 'string' },
  soak: { type: 'string' },
  'no-rollback': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  wipe: { type: 'boolean' },
  'release-owner': { type: 'boolean' },
  add: { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
  watch: { type: 'boolean' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  zone: { type: 'string' },
  hours: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
export type Options = ReturnType<typeof parse>['values'];

/** One signed-in CLI invocation as a verb sees it. */
export interface Run {
  o: Options;
  /** The positionals after the verb, e.g. the ids of `alerts ack ID ...`. */
  args: string[];
  io: Io;
  api: AdminApi;
  /** --json prints the value; otherwise `human` prints lines. */
  print(value: unknown, human: () => void): void;
}
