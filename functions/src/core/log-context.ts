import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line carries, whatever logs it. */
export type LogFields = Record<string, unknown>;

/** Cloud Logging's special fields. */
export const TRACE_KEY = 'logging.googleapis.com/trace';
export const SPAN_KEY = 'logging.googleapis.com/spanId';
export const SAMPLED_KEY = 'logging.googleapis.com/trace_sampled';
export const LABELS_KEY = 'logging.googleapis.com/labels';

const context = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with these fields on every line logged inside it (and in everything it awaits). Labels merge. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return context.run(mergeLogFields(context.getStore() ?? {}, fields), fn);
}

/** The fields of the request (or job) being handled now, if any. */
export const currentLogContext = (): LogFields | undefined => context.getStore();

export function mergeLogFields(a: LogFields, b: LogFields): LogFields {
  const labels = a[LABELS_KEY] || b[LABELS_KEY] ? { ...(a[LABELS_KEY] as object), ...(b[LABELS_KEY] as object) } : undefined;
  return labels ? { ...a, ...b, [LABELS_KEY]: labels } : { ...a, ...b };
}
