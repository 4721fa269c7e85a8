import { createInterface } from 'node:readline';
import { main } from './mdm.js';

/** `mdm` as a process: real streams, a hidden password prompt, a yes/no prompt, Ctrl-C ends `alerts tail` and watches. */
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const askPassword = (): Promise<string> =>
  new Promise((resolve) => {
    if (!process.stdin.isTTY) return resolve('');
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    process.stderr.write('Password: ');
    // hide what is typed
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });

/** Only when someone is at the terminal: in a script, a confirmation needs --yes. */
const confirm = process.stdin.isTTY
  ? (question: string): Promise<boolean> =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
        rl.question(`${question} [y/N] `, (answer) => {
          rl.close();
          resolve(/^y(es)?$/i.test(answer.trim()));
        });
      })
  : undefined;

process.exitCode = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
  askPassword,
  confirm,
  signal: controller.signal,
});
