import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * The receivers below listen on loopback, which alert channels may reach only when configured to:
 * an app that sends to them needs this in its environment.
 */
export const LOOPBACK_CHANNELS = { EGRESS_ALLOW_CIDRS: '127.0.0.1', DISCORD_WEBHOOK_HOSTS: '127.0.0.1' } as const;

/** A real HTTP endpoint on loopback that stands in for a Discord webhook. */
export class WebhookReceiver {
  readonly received: { body: any; headers: IncomingHttpHeaders }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Answers to give, in order; when empty, 204. */
  readonly script: { status: number; headers?: Record<string, string>; body?: string }[] = [];
  attempts = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        this.attempts++;
        const answer = this.script.shift() ?? { status: 204 };
        if (answer.status < 300) this.received.push({ body: JSON.parse(data), headers: req.headers });
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/api/webhooks/123/secret-token`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((r) => this.#server?.close(r));
  }
}

/** A real SMTP server on loopback (no TLS, any sender) that keeps every message it accepts. */
export class MailReceiver {
  readonly received: ParsedMail[] = [];
  /** When set, the next RCPT TO is refused with this SMTP code. */
  refuseNext: number | undefined;
  /**
   * Connection errors (a client that cuts a transaction short). smtp-server emits them on the server,
   * and with nobody listening they would be an uncaught exception in whichever test file runs then.
   */
  readonly errors: Error[] = [];
  #server: SMTPServer;
  url = '';

  constructor() {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        if (this.refuseNext) {
          const code = this.refuseNext;
          this.refuseNext = undefined;
          return callback(Object.assign(new Error('refused by test'), { responseCode: code }));
        }
        callback();
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            this.received.push(mail);
            callback();
          })
          .catch(callback);
      },
    });
    this.#server.on('error', (err: Error) => this.errors.push(err));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `smtp://127.0.0.1:${(this.#server.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
