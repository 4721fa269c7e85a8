import type { StreamSink } from '../../core/route.js';
import type { LiveStream } from '../../ports/live-stream.js';
import type { DeviceDoc, FleetSummary, Mirror } from '../../ports/mirror.js';

const KEEPALIVE_MS = 25_000;
/**
 * How far behind (bytes written that it has not taken) a console may fall before its stream is cut.
 * Past it the console reconnects and reloads the fleet, as after any dropped stream, instead of the
 * server holding every event for it: a million-device fleet going offline at once is about 270 MB of
 * events per console that stopped reading (docs/benchmarks.md). Far above what a console that reads
 * ever holds: a 500-document write is about 70 kB.
 */
export const MAX_BEHIND_BYTES = 8 * 1024 * 1024;

export interface SseMirrorOptions {
  maxBehindBytes?: number;
  /** Told of each console cut off, with how far behind it was. */
  onCut?: (behindBytes: number) => void;
}

/**
 * The standalone server's mirror: the same device documents and fleet summary the Firebase mode
 * writes to Firestore, pushed to every connected console as Server-Sent Events (`event: device` and
 * `event: summary`, JSON data). A new client gets the latest summary at once; comments every 25 s
 * keep proxies from closing an idle stream. A console that stops reading is cut off once it is
 * MAX_BEHIND_BYTES behind.
 */
export class SseMirror implements Mirror, LiveStream {
  readonly #clients = new Set<StreamSink>();
  #summary: FleetSummary | undefined;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(private readonly options: SseMirrorOptions = {}) {}

  get clients(): number {
    return this.#clients.size;
  }

  attach(sink: StreamSink): void {
    this.#clients.add(sink);
    sink.onClose(() => {
      this.#clients.delete(sink);
      if (this.#clients.size === 0) this.#stopKeepalive();
    });
    sink.write('retry: 3000\n\n');
    if (this.#summary) sink.write(event('summary', this.#summary));
    this.#keepalive ??= setInterval(() => this.#broadcast(': keepalive\n\n'), KEEPALIVE_MS).unref();
  }

  async writeDevices(docs: DeviceDoc[]): Promise<void> {
    for (const doc of docs) this.#broadcast(event('device', doc));
  }

  /** `event: removed`, data `{"id"}`: a deleted device. */
  async removeDevices(ids: string[]): Promise<void> {
    for (const id of ids) this.#broadcast(event('removed', { id }));
  }

  async writeSummary(summary: FleetSummary): Promise<void> {
    this.#summary = summary;
    this.#broadcast(event('summary', summary));
  }

  #broadcast(chunk: string): void {
    const limit = this.options.maxBehindBytes ?? MAX_BEHIND_BYTES;
    for (const client of this.#clients) {
      const behind = client.buffered?.() ?? 0;
      if (behind > limit) {
        this.#clients.delete(client);
        if (client.cut) client.cut();
        else client.end?.();
        this.options.onCut?.(behind);
        continue;
      }
      client.write(chunk);
    }
    if (this.#clients.size === 0) this.#stopKeepalive();
  }

  #stopKeepalive(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
  }
}

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
