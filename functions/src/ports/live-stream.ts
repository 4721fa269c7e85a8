import type { StreamSink } from '../core/route.js';

/** Where an open event stream attaches (the standalone live view: adapters/sse/sse-mirror.ts). */
export interface LiveStream {
  attach(sink: StreamSink): void;
}
