import { describe, expect, it } from 'vitest';
import { createLogger, memoryLogger, redact } from './logger.js';
import { type LogLevel } from '../../ports/logger.js';

/** A logger whose raw output lines are kept, so the exact serialization can be checked. */
function captured(level?: LogLevel) {
  const raw: string[] = [];
  const logger = createLogger({ ...(level ? { level } : {}), write: (line) => raw.push(line) });
  const parsed = () => raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, raw, parsed };
}

describe('line shape', () => {
  it('writes one JSON object per call with severity, message and time', () => {
    const { logger, raw, parsed } = captured('debug');
    const before = Date.now();
    logger.debug('d');
    logger.info('i', { n: 1 });
    logger.warn('w');
    logger.error('e');
    expect(raw).toHaveLength(4);
    for (const line of raw) expect(line).not.toContain('\n');
    const lines = parsed();
    expect(lines.map((l) => l.severity)).toEqual(['DEBUG', 'INFO', 'WARNING', 'ERROR']);
    expect(lines.map((l) => l.message)).toEqual(['d', 'i', 'w', 'e']);
    expect(lines[1]).toMatchObject({ n: 1 });
    for (const l of lines) {
      expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(l.time as string)).toBeGreaterThanOrEqual(before - 1);
    }
  });

  it('keeps the order severity, message, time first', () => {
    const { logger, raw } = captured();
    logger.info('hello', { a: 1 });
    expect(Object.keys(JSON.parse(raw[0]!))).toEqual(['severity', 'message', 'time', 'a']);
  });

  // Fields must not be able to rewrite the level, the message or the timestamp of an entry.
  it('does not let fields override severity, message or time', () => {
    const { logger, parsed } = captured();
    logger.error('the real message', { severity: 'DEBUG', message: 'spoofed', time: '1970-01-01T00:00:00.000Z' });
    const [line] = parsed();
    expect(line!.severity).toBe('ERROR');
    expect(line!.message).toBe('the real message');
    expect(line!.time).not.toBe('1970-01-01T00:00:00.000Z');
  });

  it('serializes Dates as ISO strings', () => {
    const log = memoryLogger();
    log.info('x', { at: new Date('2026-01-15T12:00:00Z') });
    expect(log.lines[0]!.at).toBe('2026-01-15T12:00:00.000Z');
  });
});

describe('level filtering', () => {
  it('drops entries below the configured level', () => {
    const { logger, parsed } = captured('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(parsed().map((l) => l.message)).toEqual(['w', 'e']);
  });

  it('defaults to info', () => {
    const { logger, parsed } = captured();
    logger.debug('d');
    logger.info('i');
    expect(parsed().map((l) => l.message)).toEqual(['i']);
  });

  it('error level writes only errors; memoryLogger keeps everything', () => {
    const { logger, parsed } = captured('error');
    logger.warn('w');
    logger.error('e');
    expect(parsed().map((l) => l.message)).toEqual(['e']);
    const mem = memoryLogger();
    mem.debug('d');
    expect(mem.lines).toHaveLength(1);
  });
});

describe('child loggers', () => {
  it('merge their fields into every entry; call fields win; the parent is unchanged', () => {
    const { logger, parsed } = captured();
    const child = logger.child({ requestId: 'r1', component: 'router' });
    const grandchild = child.child({ deviceId: 'd1' });
    grandchild.info('x', { component: 'override', extra: true });
    logger.info('parent');
    const [fromChild, fromParent] = parsed();
    expect(fromChild).toMatchObject({ requestId: 'r1', deviceId: 'd1', component: 'override', extra: true, message: 'x' });
    expect(fromParent).not.toHaveProperty('requestId');
  });

  it('keep the level of their parent', () => {
    const { logger, parsed } = captured('warn');
    logger.child({ a: 1 }).info('dropped');
    expect(parsed()).toHaveLength(0);
  });

  it('redact secrets in child fields too', () => {
    const log = memoryLogger();
    log.child({ token: 'child-secret' }).info('x');
    expect(log.lines[0]!.token).toBe('[redacted]');
  });
});

describe('redaction', () => {
  it.each([
    'password',
    'adminPassword',
    'pass',
    'deviceSecret',
    'token',
    'accessToken',
    'enrollment_token',
    'authorization',
    'Authorization',
    'cookie',
    'set-cookie',
    'hmacKey',
    'apiKey',
    'x-api-key',
    'credentials',
    'privateKey',
  ])('replaces the value under %j', (key) => {
    const { logger, raw } = captured();
    logger.info('x', { [key]: 'SUPERSECRET', [`${key}Obj`]: { inner: 'SUPERSECRET' } });
    expect(raw[0]).not.toContain('SUPERSECRET');
    expect(JSON.parse(raw[0]!)[key]).toBe('[redacted]');
  });

  it('redacts nested inside objects and arrays and keeps other values', () => {
    const { logger, raw, parsed } = captured();
    logger.info('req', {
      body: { email: 'a@example.com', password: 'SECRET1', device: { deviceSecret: 'SECRET2', model: 'Pixel' } },
      headers: { authorization: 'Bearer SECRET3', cookie: 'mdm_session=SECRET4', 'user-agent': 'curl' },
      items: [{ token: 'SECRET5', id: 1 }, [{ hmacKey: 'SECRET6' }], 'plain'],
    });
    expect(raw[0]).not.toMatch(/SECRET\d/);
    const line = parsed()[0] as any;
    expect(line.body).toEqual({ email: 'a@example.com', password: '[redacted]', device: { deviceSecret: '[redacted]', model: 'Pixel' } });
    expect(line.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]', 'user-agent': 'curl' });
    expect(line.items).toEqual([{ token: '[redacted]', id: 1 }, [{ hmacKey: '[redacted]' }], 'plain']);
  });

  it('leaves ordinary keys and primitives alone', () => {
    expect(redact({ deviceId: 'd1', count: 3, ok: true, none: null })).toEqual({ deviceId: 'd1', count: 3, ok: true, none: null });
    expect(redact('token')).toBe('token');
    expect(redact(42)).toBe(42);
  });

  it('serializes Errors with name, message, stack and code', () => {
    const log = memoryLogger();
    const err = Object.assign(new TypeError('boom'), { code: 'E_TEST' });
    log.error('failed', { err, nested: { list: [new RangeError('inner')] } });
    const line = log.lines[0] as any;
    expect(line.err).toMatchObject({ name: 'TypeError', message: 'boom', code: 'E_TEST' });
    expect(line.err.stack).toContain('boom');
    expect(line.err.stack).toContain('logger.test.ts');
    expect(line.nested.list[0]).toMatchObject({ name: 'RangeError', message: 'inner' });
  });

  it('truncates below six levels and survives cycles', () => {
    const log = memoryLogger();
    log.info('deep', { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } });
    expect((log.lines[0] as any).a.b.c.d.e).toEqual({ f: '[truncated]' });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(() => log.info('cycle', { cyclic })).not.toThrow();
    expect(JSON.stringify(log.lines[1])).toContain('[truncated]');
    expect(redact([[[[[[['x']]]]]]])).toEqual([[[[[['[truncated]']]]]]]);
  });

  it('does not modify the caller’s objects', () => {
    const fields = { body: { password: 'pw' } };
    memoryLogger().info('x', fields);
    expect(fields.body.password).toBe('pw');
  });
});

describe('credential-shaped values and request context', () => {
  it('masks JWTs, bearer tokens, enrollment tokens and URL passwords wherever they appear', async () => {
    const { withLogContext } = await import('../../core/log-context.js');
    const log = memoryLogger();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLWJ5dGVz';
    log.warn(`rejected ${jwt}`, {
      detail: `header was Bearer ${jwt}`,
      url: 'postgres://mdm:s3cr3t-pass@db.internal:5432/mdm',
      nested: { list: [`mdmet_${'A'.repeat(43)}`, 'plain text stays'] },
      err: new Error(`connect failed for smtp://user:hunter22@mail.example.com`),
    });
    const text = JSON.stringify(log.lines);
    for (const secret of ['c2lnbmF0dXJlLWJ5dGVz', 's3cr3t-pass', 'A'.repeat(43), 'hunter22']) expect(text).not.toContain(secret);
    expect(log.lines[0]).toMatchObject({
      nested: { list: ['[redacted]', 'plain text stays'] },
      url: 'postgres://mdm:[redacted]@db.internal:5432/mdm',
    });
    withLogContext({ requestId: 'r-9', 'logging.googleapis.com/labels': { requestId: 'r-9' } }, () =>
      log.child({ 'logging.googleapis.com/labels': { component: 'x' } }).info('in context'),
    );
    expect(log.lines[1]).toMatchObject({ requestId: 'r-9', 'logging.googleapis.com/labels': { requestId: 'r-9', component: 'x' } });
    log.info('outside');
    expect(log.lines[2]).not.toHaveProperty('requestId');
  });
});
