import type { ChannelTarget, MessageItem, Notifier, OutgoingMessage, SendResult, Severity } from '../../ports/notifier.js';
import { createEgressGuard, type EgressGuard } from '../egress/egress-guard.js';
import { guardedPost, type PostAnswer } from '../egress/post.js';

/** Discord's webhook hosts: the only ones a webhook goes to unless DISCORD_WEBHOOK_HOSTS says otherwise. */
export const DISCORD_WEBHOOK_HOSTS = ['discord.com', 'discordapp.com', 'canary.discord.com', 'ptb.discord.com'] as const;

/** Discord's documented limits; a payload over any of them is rejected whole with a 400. */
const LIMIT = { embeds: 10, chars: 6000, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024 };
const COLORS: Record<Severity, number> = { critical: 0xe74c3c, warning: 0xe67e22, info: 0x3498db, resolved: 0x2ecc71 };

export interface DiscordNotifierOptions {
  /** Per request, including reading the answer. */
  timeoutMs?: number;
  /** Requests per send, the first one included. */
  maxAttempts?: number;
  /** A 429 asking for a longer wait is handed back to the caller instead of waited out here. */
  maxInlineWaitSec?: number;
  /** First back-off after a 5xx or a network error; doubles on each further attempt. */
  backoffMs?: number;
  /** Hosts a webhook may point at (DISCORD_WEBHOOK_HOSTS); Discord's own by default. */
  allowedHosts?: readonly string[];
  /** Where connections may go; by default nothing loopback, private, link-local or reserved. */
  guard?: EgressGuard;
}

type Embed = {
  title?: string;
  description?: string;
  url?: string;
  color: number;
  timestamp?: string;
  fields?: { name: string; value: string; inline: boolean }[];
  footer?: { text: string };
};

/** One attempt's outcome: a final result, or a failure worth another try (after waitSec when the server said). */
type Attempt = { final: SendResult } | { retry: SendResult & { ok: false }; waitSec?: number };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Cuts to `max` UTF-16 units without leaving half a surrogate pair (Discord rejects broken text). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + '…';
}

/** Only absolute http(s) URLs: anything else makes Discord reject the whole embed. */
const webUrl = (url?: string) => (url && /^https?:\/\//i.test(url) && URL.canParse(url) ? url : undefined);

const timestamp = (at: string) => (Number.isNaN(Date.parse(at)) ? undefined : new Date(at).toISOString());

function itemEmbed(item: MessageItem, color: number): Embed {
  // Discord refuses empty field names and values; a zero-width space is its usual stand-in.
  const fields = item.fields.slice(0, LIMIT.fields).map((f) => ({
    name: truncate(f.name, LIMIT.fieldName) || '\u200b',
    value: truncate(f.value, LIMIT.fieldValue) || '\u200b',
    inline: true,
  }));
  return { title: truncate(item.title, LIMIT.title) || undefined, url: webUrl(item.url), color, fields };
}

/** The characters Discord counts towards the 6000 shared by all embeds of one message. */
function embedChars(e: Embed): number {
  const fields = (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  return (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + fields;
}

/**
 * The webhook body: one embed for the message, then one per item while they fit. Items left out are
 * still named in the description (the message text lists them all), the footer says how many.
 */
export function discordPayload(message: OutgoingMessage) {
  const color = COLORS[message.severity] ?? COLORS.info;
  const main: Embed = {
    title: truncate(message.title, LIMIT.title) || undefined,
    description: truncate(message.text, LIMIT.description) || undefined,
    url: webUrl(message.url),
    color,
    timestamp: timestamp(message.at),
  };
  const items = message.items.slice(0, LIMIT.embeds - 1).map((item) => itemEmbed(item, color));
  for (;;) {
    const left = message.items.length - items.length;
    main.footer = left > 0 ? { text: `and ${left} more` } : undefined;
    const total = [main, ...items].reduce((n, e) => n + embedChars(e), 0);
    // Title, description and footer alone stay far below the limit, so this always ends.
    if (total <= LIMIT.chars || items.length === 0) break;
    items.pop();
  }
  // No pings: an @everyone in a device name must not wake a whole server.
  return { username: 'Fleet MDM', embeds: [main, ...items], allowed_mentions: { parse: [] as string[] } };
}

/**
 * Posts alerts to a Discord channel webhook. Rate limits and server errors are retried here only briefly
 * (the caller's queue owns long waits); the webhook URL carries its token, so it never appears in a result.
 */
export class DiscordNotifier implements Notifier {
  private readonly opts: Required<DiscordNotifierOptions>;

  constructor(
    options: DiscordNotifierOptions = {},
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {
    const { timeoutMs = 10_000, maxAttempts = 3, maxInlineWaitSec = 10, backoffMs = 500 } = options;
    this.opts = {
      timeoutMs,
      maxAttempts: Math.max(1, maxAttempts),
      maxInlineWaitSec,
      backoffMs,
      allowedHosts: (options.allowedHosts ?? DISCORD_WEBHOOK_HOSTS).map((h) => h.toLowerCase()),
      guard: options.guard ?? createEgressGuard(),
    };
  }

  async send(message: OutgoingMessage, target: ChannelTarget): Promise<SendResult> {
    if (target.channel !== 'discord') {
      return { ok: false, retryable: false, error: `DiscordNotifier cannot send to a ${target.channel} target` };
    }
    if (!/^https?:\/\//i.test(target.webhookUrl) || !URL.canParse(target.webhookUrl)) {
      return { ok: false, retryable: false, error: 'invalid Discord webhook URL', failure: 'invalid_target' };
    }
    const host = new URL(target.webhookUrl).hostname.toLowerCase();
    if (!this.opts.allowedHosts.includes(host)) {
      return {
        ok: false,
        retryable: false,
        error: `Discord webhooks go to ${this.opts.allowedHosts.join(', ')} (DISCORD_WEBHOOK_HOSTS); not to ${host}`,
        failure: 'invalid_target',
      };
    }
    try {
      const body = JSON.stringify(discordPayload(message));
      for (let attempt = 1; ; attempt++) {
        const outcome = await this.attempt(target.webhookUrl, body);
        if ('final' in outcome) return outcome.final;
        const { retry, waitSec } = outcome;
        // A long wait is the caller's to schedule: holding the request open helps nobody.
        if (attempt >= this.opts.maxAttempts || (waitSec ?? 0) > this.opts.maxInlineWaitSec) return retry;
        await this.sleep(waitSec !== undefined ? Math.ceil(waitSec * 1000) : this.opts.backoffMs * 2 ** (attempt - 1));
      }
    } catch (err) {
      // Only a malformed message gets here; sending it again would fail the same way.
      return {
        ok: false,
        retryable: false,
        error: scrub(`cannot send to Discord: ${String(err)}`, target.webhookUrl),
        failure: 'invalid_target',
      };
    }
  }

  private async attempt(webhookUrl: string, body: string): Promise<Attempt> {
    let res: PostAnswer;
    try {
      // connects only where the egress guard allows, and never follows a redirect: either could lead
      // to an address the webhook host was not
      res = await guardedPost(webhookUrl, body, {
        guard: this.opts.guard,
        timeoutMs: this.opts.timeoutMs,
        headers: { 'content-type': 'application/json' },
      });
    } catch (err) {
      const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
      if (e.name === 'TimeoutError') {
        // The post may have gone through; trying again at once could show the alert twice.
        return {
          final: { ok: false, retryable: true, error: `Discord did not answer within ${this.opts.timeoutMs} ms`, failure: 'timeout' },
        };
      }
      if (e.code === 'EGRESS_REFUSED') {
        return {
          final: { ok: false, retryable: false, error: scrub(e.message ?? String(err), webhookUrl), failure: 'destination_refused' },
        };
      }
      const detail = scrub(`${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`, webhookUrl);
      return { retry: { ok: false, retryable: true, error: `network error: ${detail}`, failure: 'unreachable' } };
    }
    if (res.status >= 200 && res.status < 300) return { final: { ok: true, detail: `HTTP ${res.status}` } };
    if (res.status >= 300 && res.status < 400) {
      return {
        final: {
          ok: false,
          retryable: false,
          error: `Discord answered with a redirect (HTTP ${res.status}), which is not followed`,
          failure: 'rejected',
        },
      };
    }
    // only Discord's own error code and message (JSON) are kept: never another server's page
    const error = `Discord answered HTTP ${res.status}${discordError(res.text, webhookUrl)}`;
    const waitSec = retryAfterSec(res, res.text);
    if (res.status === 429 || res.status >= 500) {
      const retryAfter = waitSec !== undefined ? { retryAfterSec: Math.ceil(waitSec) } : {};
      const failure = res.status === 429 ? ('rate_limited' as const) : ('remote_error' as const);
      return { retry: { ok: false, retryable: true, error, failure, ...retryAfter }, waitSec };
    }
    // 400 (payload), 401/403 (bad token), 404 (webhook deleted): the same request will fail again.
    return { final: { ok: false, retryable: false, error, failure: 'rejected' } };
  }
}

/** `: <message> (code <n>)` from a Discord error body (`{"message": ..., "code": ...}`), else nothing. */
function discordError(body: string, webhookUrl: string): string {
  try {
    const json = JSON.parse(body) as { message?: unknown; code?: unknown };
    if (typeof json.message !== 'string') return '';
    const code = typeof json.code === 'number' ? ` (code ${json.code})` : '';
    return `: ${truncate(scrub(json.message, webhookUrl), 120)}${code}`;
  } catch {
    return '';
  }
}

/** The longer of the Retry-After header and the body's retry_after (seconds, may be fractional). */
function retryAfterSec(res: PostAnswer, body: string): number | undefined {
  const candidates: number[] = [];
  const header = res.headers.get('retry-after');
  if (header) {
    const sec = /^\s*\d+(\.\d+)?\s*$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
    if (Number.isFinite(sec)) candidates.push(Math.max(0, sec));
  }
  try {
    const json = JSON.parse(body) as { retry_after?: unknown };
    if (typeof json.retry_after === 'number' && json.retry_after >= 0) candidates.push(json.retry_after);
  } catch {
    // Not JSON (a proxy's HTML page): the header is all there is.
  }
  return candidates.length ? Math.max(...candidates) : undefined;
}

/** Removes the webhook URL and its id and token from text that might echo them. */
function scrub(text: string, webhookUrl: string): string {
  let out = text.split(webhookUrl).join('[webhook]');
  for (const part of new URL(webhookUrl).pathname.split('/')) {
    if (part.length >= 16) out = out.split(part).join('[redacted]');
  }
  return out;
}
