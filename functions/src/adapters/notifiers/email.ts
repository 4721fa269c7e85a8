import { createTransport, type NodemailerError, type Transporter } from 'nodemailer';
import { connect, type Socket } from 'node:net';
import type { ChannelTarget, FailureClass, Notifier, OutgoingMessage, SendResult, Severity } from '../../ports/notifier.js';
import { createEgressGuard, EgressRefusedError, type EgressGuard } from '../egress/egress-guard.js';

export interface EmailNotifierOptions {
  /** Applies to connecting, the server's greeting and each quiet stretch on the socket. */
  timeoutMs?: number;
  /** Where connections may go; by default nothing loopback, private, link-local or reserved. */
  guard?: EgressGuard;
}

const COLORS: Record<Severity, string> = { critical: '#E74C3C', warning: '#E67E22', info: '#3498DB', resolved: '#2ECC71' };
const LABELS: Record<Severity, string> = { critical: 'Critical', warning: 'Warning', info: 'Info', resolved: 'Resolved' };

/** Failures of the connection rather than of the message: the next attempt may well get through. */
const TRANSIENT = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROXY']);

/** Escapes text for HTML element content and quoted attribute values alike. */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Links only to the web: a javascript: or data: URL in a device name must not become clickable. */
const safeUrl = (url?: string) => (url && /^https?:\/\//i.test(url) ? url : undefined);

/**
 * Sends alerts by SMTP through nodemailer, one transport per SMTP URL. The URL may carry a password,
 * so it never appears in a result.
 */
export class EmailNotifier implements Notifier {
  private readonly transports = new Map<string, Transporter>();
  private readonly timeoutMs: number;
  private readonly guard: EgressGuard;

  constructor(options: EmailNotifierOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.guard = options.guard ?? createEgressGuard();
  }

  async send(message: OutgoingMessage, target: ChannelTarget): Promise<SendResult> {
    if (target.channel !== 'email') {
      return { ok: false, retryable: false, error: `EmailNotifier cannot send to a ${target.channel} target` };
    }
    if (!/^smtps?:\/\//i.test(target.smtpUrl)) return { ok: false, retryable: false, error: 'invalid SMTP URL', failure: 'invalid_target' };
    try {
      const info = await this.transport(target.smtpUrl).sendMail({
        from: target.from,
        to: target.to,
        subject: message.title,
        text: textPart(message),
        html: htmlPart(message),
      });
      // Some recipients took it: sending again would give them a second copy, so this counts as sent.
      const rejected = info.rejected?.length ? `; rejected: ${info.rejected.join(', ')}` : '';
      return { ok: true, detail: `${info.messageId} ${info.response}${rejected}` };
    } catch (err) {
      return failure(err instanceof Error ? err : new Error(String(err)), target.smtpUrl);
    }
  }

  /** Closes every cached transport (and with it any pooled connection); later sends open new ones. */
  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
  }

  /** A plain TCP connection to the SMTP server, made only to an address the egress guard allows. */
  private connect(host: string, port: number, callback: (err: Error | null, socket?: { connection: Socket }) => void): void {
    const literal = host.replace(/^\[|\]$/g, '');
    const refused = this.guard.refusal(literal);
    if (refused) return callback(refused);
    const socket = connect({ host: literal, port, lookup: this.guard.lookup });
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      if (err) {
        socket.destroy();
        callback(err);
      } else callback(null, { connection: socket });
    };
    socket.setTimeout(this.timeoutMs, () =>
      settle(Object.assign(new Error(`connection to ${host}:${port} timed out`), { code: 'ETIMEDOUT' })),
    );
    socket.once('connect', () => settle(null));
    // named the way nodemailer names its own connection failures (a transient ECONNECTION)
    socket.once('error', (err: NodeJS.ErrnoException) =>
      settle(err instanceof EgressRefusedError ? err : Object.assign(err, { originalCode: err.code, code: 'ECONNECTION' })),
    );
  }

  private transport(smtpUrl: string): Transporter {
    let transport = this.transports.get(smtpUrl);
    if (!transport) {
      const t = this.timeoutMs;
      // The URL's own query parameters still win over these, as nodemailer merges them.
      transport = createTransport({
        url: smtpUrl,
        connectionTimeout: t,
        greetingTimeout: t,
        socketTimeout: t,
        dnsTimeout: t,
        // nodemailer opens (and, for smtps, upgrades) the socket this gives it: connected only where the
        // egress guard allows, the name resolved and checked at connect time
        getSocket: (options, callback) =>
          this.connect(options.host ?? 'localhost', Number(options.port) || (options.secure ? 465 : 587), callback),
      });
      this.transports.set(smtpUrl, transport);
    }
    return transport;
  }
}

/** The kind of an SMTP failure, from the server's reply code or nodemailer's error code. */
function failureClass(err: NodemailerError): FailureClass {
  const code = err.responseCode;
  if (code === 421 || code === 450 || code === 451 || code === 452) return 'remote_error';
  if (code) return 'rejected';
  if (err.code === 'ETIMEDOUT' || err.timeoutType) return 'timeout';
  if (err.code === 'EAUTH' || err.code === 'EENVELOPE' || err.code === 'EMESSAGE') return 'rejected';
  if (err.code === 'ECONNECTION' || err.code === 'ESOCKET' || err.code === 'EDNS') return 'unreachable';
  return 'remote_error';
}

function failure(err: NodemailerError, smtpUrl: string): SendResult & { ok: false } {
  if (err.code === 'EGRESS_REFUSED' || err instanceof EgressRefusedError) {
    return { ok: false, retryable: false, error: scrub(err.message, smtpUrl), failure: 'destination_refused' };
  }
  // RFC 5321: 4xx is transient, 5xx permanent, except 503 (bad sequence), which a new session clears.
  const code = err.responseCode;
  const retryable = code ? code < 500 || code === 503 : TRANSIENT.has(err.code ?? '');
  // e.g. "EENVELOPE at RCPT TO: ... 550 Mailbox unavailable", "ESOCKET (ECONNREFUSED): connect ECONNREFUSED ..."
  const why = err.originalCode ?? err.timeoutType;
  const where = err.command && !['CONN', 'API'].includes(err.command) ? ` at ${err.command}` : '';
  const kind = `${err.code ?? 'Error'}${why ? ` (${why})` : ''}${where}`;
  return { ok: false, retryable, error: scrub(`${kind}: ${err.message ?? String(err)}`, smtpUrl), failure: failureClass(err) };
}

/** Removes the SMTP URL and its password from an error text, in case a library message ever echoes them. */
function scrub(text: string, smtpUrl: string): string {
  const secrets = [smtpUrl];
  const password = /^[a-z]+:\/\/[^/@]*?:([^@/]*)@/i.exec(smtpUrl)?.[1];
  if (password) secrets.push(password, safeDecode(password));
  return secrets.filter((s) => s.length > 0).reduce((out, s) => out.split(s).join('[redacted]'), text);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function textPart(message: OutgoingMessage): string {
  const parts = [message.text];
  for (const item of message.items) {
    const lines = [item.title, ...item.fields.map((f) => `${f.name}: ${f.value}`)];
    if (item.url) lines.push(item.url);
    parts.push(lines.join('\n'));
  }
  if (message.url) parts.push(message.url);
  return parts.join('\n\n') + '\n';
}

const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const link = (url: string | undefined, label: string) => {
  const href = safeUrl(url);
  return href ? `<a href="${esc(href)}" style="color:#1a73e8;text-decoration:none">${esc(label)}</a>` : '';
};

function itemTable(item: OutgoingMessage['items'][number]): string {
  const rows = item.fields
    .map(
      (f) =>
        `<tr><td style="padding:4px 12px 4px 0;color:#6b7280;white-space:nowrap;vertical-align:top">${esc(f.name)}</td>` +
        `<td style="padding:4px 0;color:#111827">${esc(f.value)}</td></tr>`,
    )
    .join('');
  const title = link(item.url, item.title) || esc(item.title);
  return (
    `<table role="presentation" cellpadding="0" cellspacing="0"` +
    ` style="width:100%;margin:0 0 12px;border:1px solid #e5e7eb;border-radius:4px">` +
    `<tr><td style="padding:12px"><div style="font-weight:600;margin:0 0 6px">${title}</div>` +
    `<table role="presentation" cellpadding="0" cellspacing="0" style="font-size:14px">${rows}</table></td></tr></table>`
  );
}

/** A single-column, inline-styled e-mail with no external assets, so it renders the same everywhere. */
export function htmlPart(message: OutgoingMessage): string {
  const color = COLORS[message.severity] ?? COLORS.info;
  const paragraphs = message.text
    .split(/\n\s*\n/)
    .filter((p) => p.trim())
    .map((p) => `<p style="margin:0 0 12px;line-height:1.5">${esc(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
  const open = link(message.url, 'Open in the admin console');
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(message.title)}</title></head>` +
    `<body style="margin:0;padding:24px 0;background:#f3f4f6;${FONT};color:#111827">` +
    `<table role="presentation" cellpadding="0" cellspacing="0" align="center"` +
    ` style="width:100%;max-width:600px;background:#ffffff;border-radius:6px">` +
    `<tr><td style="height:6px;background:${color};border-radius:6px 6px 0 0;font-size:0;line-height:0">&nbsp;</td></tr>` +
    `<tr><td style="padding:20px 24px">` +
    `<div style="font-size:12px;font-weight:600;letter-spacing:.05em;text-transform:uppercase;color:${color}">` +
    `${LABELS[message.severity] ?? ''}</div>` +
    `<h1 style="margin:4px 0 16px;font-size:20px;line-height:1.3">${esc(message.title)}</h1>` +
    paragraphs +
    message.items.map(itemTable).join('') +
    (open ? `<p style="margin:16px 0 0">${open}</p>` : '') +
    `</td></tr>` +
    `<tr><td style="padding:12px 24px;font-size:12px;color:#6b7280;border-top:1px solid #e5e7eb">` +
    `Fleet MDM · ${esc(message.at)}</td></tr>` +
    `</table></body></html>`
  );
}
