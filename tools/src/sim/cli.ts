#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { SetupError } from './enroll.js';
import { runFleet } from './fleet.js';
import { HELP, parseCli, UsageError } from './options.js';
import { formatSummary } from './summary.js';

/**
 * `npm run simulate -- --devices N ...`: parses the options, runs the fleet until --duration or
 * Ctrl-C / SIGTERM, prints the summary. Exit codes: 0 done, 1 setup failed or (with --fail-on-error)
 * a request failed, 2 bad usage, 130 a second Ctrl-C while stopping.
 */
async function main(): Promise<number> {
  let command;
  try {
    command = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${HELP}`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      process.stderr.write(`\n${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: stopping (waiting for requests in flight; again to quit now)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const progress = command.progress === 'auto' ? (process.stdout.isTTY ? 'tty' : 'plain') : command.progress;
  try {
    const summary = await runFleet({ ...command.fleet, progress, signal: abort.signal });
    process.stdout.write(formatSummary(summary));
    if (command.jsonSummary) await writeFile(command.jsonSummary, JSON.stringify(summary, null, 2) + '\n');
    return command.failOnError && summary.errors.total > 0 ? 1 : 0;
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`simulator failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
