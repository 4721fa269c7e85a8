import { toDeviceDoc, toSummary, type LiveHandlers, type LiveSource } from './live-source.js';

export interface SseOptions {
  url?: string;
  /** Delay before reopening a stream the browser gave up on; doubles to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Injected in tests; the browser's EventSource otherwise. */
  EventSource?: typeof EventSource;
}

/**
 * The standalone server's stream (GET /api/v1/admin/stream): `event: device`, `event: summary` and
 * `event: removed` (a deleted device, `{"id"}`), JSON data. The browser reconnects a dropped stream by itself (the server asks for 3 s); when it
 * gives up (the server answered an error, e.g. while restarting behind a proxy) this reopens it with
 * backoff. Every reconnect asks for a resync, because events sent while away are not replayed.
 */
export class SseSource implements LiveSource {
  readonly kind = 'sse' as const;
  #es: EventSource | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #handlers: LiveHandlers | undefined;
  #everOpen = false;
  #backoff: number;
  #stopped = false;
  #pending: import('../types.js').DeviceDoc[] = [];
  #flush: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: SseOptions = {}) {
    this.#backoff = opts.backoffMs ?? 1000;
  }

  start(handlers: LiveHandlers): void {
    this.#handlers = handlers;
    this.#stopped = false;
    handlers.status('connecting');
    this.#open();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#flush);
    this.#es?.close();
    this.#es = undefined;
    this.#handlers?.status('stopped');
  }

  #open(): void {
    const ES = this.opts.EventSource ?? EventSource;
    const es = new ES(this.opts.url ?? '/api/v1/admin/stream', { withCredentials: true });
    this.#es = es;
    const h = this.#handlers!;
    es.onopen = () => {
      this.#backoff = this.opts.backoffMs ?? 1000;
      h.status('live');
      if (this.#everOpen) h.resync();
      this.#everOpen = true;
    };
    es.onerror = () => {
      if (this.#stopped) return;
      h.status(this.#everOpen ? 'reconnecting' : 'connecting', 'The live connection dropped; reconnecting.');
      if (es.readyState === ES.CLOSED) {
        es.close();
        this.#timer = setTimeout(() => this.#open(), this.#backoff);
        this.#backoff = Math.min(this.#backoff * 2, this.opts.maxBackoffMs ?? 15_000);
      }
    };
    es.addEventListener('device', (e) => {
      const doc = toDeviceDoc(parse((e as MessageEvent<string>).data));
      if (!doc) return;
      // Heartbeats of a busy fleet arrive hundreds a second: hand them over in one batch per frame.
      this.#pending.push(doc);
      this.#flush ??= setTimeout(() => {
        this.#flush = undefined;
        const docs = this.#pending;
        this.#pending = [];
        h.devices(docs);
      }, 16);
    });
    es.addEventListener('removed', (e) => {
      const id = (parse((e as MessageEvent<string>).data) as { id?: unknown } | null)?.id;
      if (typeof id === 'string') h.removed([id]);
    });
    es.addEventListener('summary', (e) => {
      const summary = toSummary(parse((e as MessageEvent<string>).data));
      if (summary) h.summary(summary);
    });
  }
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}
