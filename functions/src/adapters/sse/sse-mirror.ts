import type { StreamSink } from '../../core/route.js';
import type { LiveStream } from '../../ports/live-stream.js';
import type { DeviceDoc, FleetSummary, Mirror } from '../../ports/mirror.js';

const KEEPALIVE_MS = 25_000;

/**
 * The standalone server's mirror: the same device documents and fleet summary the Firebase mode
 * writes to Firestore, pushed to every connected console as Server-Sent Events (`event: device` and
 * `event: summary`, JSON data). A new client gets the latest summary at once; comments every 25 s
 * keep proxies from closing an idle stream.
 */
export class SseMirror implements Mirror, LiveStream {
  readonly #clients = new Set<StreamSink>();
  #summary: FleetSummary | undefined;
  #keepalive: NodeJS.Timeout | undefined;

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
    for (const client of this.#clients) client.write(chunk);
  }

  #stopKeepalive(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
  }
}

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
