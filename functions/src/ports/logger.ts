/**
 * The Logger port: structured lines with fields. The JSON adapter (adapters/logging/logger.ts) writes
 * them in Cloud Logging's shape and keeps secrets out; tests use its memory logger.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
import type { LogFields } from '../core/log-context.js';

export type { LogFields };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}
