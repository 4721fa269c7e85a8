import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailReceiver } from './receivers.js';

/** The notification tests' SMTP receiver must not take the test process down with it. */
describe('the loopback SMTP receiver', () => {
  let mail: MailReceiver;
  beforeAll(async () => {
    mail = await new MailReceiver().start();
  });
  afterAll(() => mail.stop());

  it('records a connection reset in the middle of a transaction instead of throwing it', async () => {
    const { port } = new URL(mail.url);
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let seen = '';
    socket.on('data', (d: Buffer) => (seen += d.toString()));
    const answered = (code: string) => expect.poll(() => seen, { timeout: 5000 }).toMatch(new RegExp(`^${code} `, 'm'));
    await answered('220');
    socket.write('EHLO test\r\n');
    await answered('250');
    seen = '';
    socket.write('MAIL FROM:<mdm@example.com>\r\n');
    await answered('250');
    socket.resetAndDestroy(); // an RST with the sender given: smtp-server emits it as an error
    await expect.poll(() => mail.errors.length, { timeout: 5000 }).toBe(1);
    expect((mail.errors[0] as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });
});
