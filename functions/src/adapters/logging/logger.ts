import { currentLogContext, mergeLogFields as merge } from '../../core/log-context.js';
import type { LogFields, Logger, LogLevel } from '../../ports/logger.js';

/**
 * Structured logging: one JSON object per line in Cloud Logging's shape (`severity`, `message`,
 * `httpRequest`, `logging.googleapis.com/trace`, `logging.googleapis.com/labels`). On Cloud Run and
 * Cloud Functions the logging agent turns such stdout lines into structured entries (this is what
 * firebase-functions' own logger does); standalone, they go to stdout as they are.
 *
 * Secrets are kept out by construction: values under keys that name credentials are replaced, and
 * strings that look like credentials (JWTs, bearer tokens, enrollment tokens, passwords in URLs) are
 * masked wherever they appear, messages included - so a careless `logger.info('x', { body })` cannot
 * leak one. Everything logged while a request is handled carries that request's id and trace
 * (`withLogContext`), however deep the call that logs.
 */
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SEVERITY: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|hmac|api[-_]?key|credential|private|webhook|smtp_?url/i;
/** Credential-shaped text inside any string: JWTs, bearer tokens, our enrollment tokens, user:password@ in URLs. */
const SECRET_VALUE =
  /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*|\b(Bearer|Basic)\s+[\w.~+/=-]{8,}|\bmdmet_[\w-]{20,}|(?<=:\/\/[^/\s:@]{0,256}:)[^/\s@]{1,256}(?=@)/gi;
const MAX_DEPTH = 6;

const maskString = (s: string): string => (s.length < 8 ? s : s.replace(SECRET_VALUE, '[redacted]'));

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskString(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: maskString(value.message),
      stack: value.stack && maskString(value.stack),
      code: (value as { code?: unknown }).code,
    };
  }
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const bigintSafe = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

export function createLogger(options: { level?: LogLevel; base?: LogFields; write?: (line: string) => void } = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = options.base ?? {};
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const ctx = currentLogContext();
    let all = ctx ? merge(base, ctx) : base;
    if (fields) all = merge(all, fields);
    const entry = redact(all) as LogFields;
    // A field cannot pass itself off as the severity, message or time.
    delete entry.severity;
    delete entry.message;
    delete entry.time;
    write(
      JSON.stringify({ severity: SEVERITY[level], message: maskString(message), time: new Date().toISOString(), ...entry }, bigintSafe),
    );
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, base: merge(base, fields) }),
  };
}

/** Collects entries in memory; for tests. */
export function memoryLogger(): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { lines });
}
