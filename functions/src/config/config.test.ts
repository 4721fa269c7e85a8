import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, describeConfig, loadConfig } from './config.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

/** Runs loadConfig expecting a ConfigError and returns its message. */
function configError(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).name).toBe('ConfigError');
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig defaults', () => {
  it('uses the documented defaults when the environment is empty', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.heartbeatIntervalSec).toBe(300);
    expect(c.offlineAfterSec).toBe(720);
    expect(c.publicUrl).toBe('http://localhost:8080');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe('./data');
    expect(c.trustProxy).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(c.agentPackage).toBe('dev.fleetmdm.agent');
    expect(c.agentAdminReceiver).toBe('.AdminReceiver');
    expect(c.rateLimit).toEqual({ windowSec: 900, loginFailures: 10, enrollFailures: 30, sessionFailures: 30 });
  });

  it('derives the default PUBLIC_URL from PORT', () => {
    expect(loadConfig({ PORT: '9090' }).publicUrl).toBe('http://localhost:9090');
  });

  it('strips trailing slashes from PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://mdm.example.com/' }).publicUrl).toBe('https://mdm.example.com');
    expect(loadConfig({ PUBLIC_URL: 'https://mdm.example.com/base///' }).publicUrl).toBe('https://mdm.example.com/base');
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '', PUBLIC_URL: '', DATABASE_URL: '', ADMIN_EMAIL: '', ENCRYPTION_KEY: '', LOG_LEVEL: '' });
    expect(c.port).toBe(8080);
    expect(c.publicUrl).toBe('http://localhost:8080');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.adminEmail).toBeUndefined();
    expect(c.encryptionKey).toBeUndefined();
    expect(c.logLevel).toBe('info');
  });

  it('ignores variables that are not part of the schema', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/bin', SOMETHING_ELSE: 'x' })).not.toThrow();
  });
});

describe('loadConfig accepts valid values', () => {
  it('reads every kind of value', () => {
    const c = loadConfig({
      PORT: '3000',
      DATABASE_URL: 'postgresql://u:p@db.internal:5432/mdm',
      ENCRYPTION_KEY: KEY,
      JWT_SECRET: 'x'.repeat(32),
      ADMIN_PASSWORD: 'correct horse',
      HEARTBEAT_INTERVAL_SEC: '60',
      LOG_LEVEL: 'debug',
    });
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBe('postgresql://u:p@db.internal:5432/mdm');
    expect(c.encryptionKey).toBe(KEY);
    expect(c.jwtSecret).toBe('x'.repeat(32));
    expect(c.adminPassword).toBe('correct horse');
    expect(c.heartbeatIntervalSec).toBe(60);
    expect(c.logLevel).toBe('debug');
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/mdm' }).databaseUrl).toBe('postgres://localhost/mdm');
  });

  it('lower-cases ADMIN_EMAIL', () => {
    expect(loadConfig({ ADMIN_EMAIL: 'Admin@Example.COM' }).adminEmail).toBe('admin@example.com');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('parses TRUST_PROXY=%s as %s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toBe(expected);
  });

  it('rejects an unknown TRUST_PROXY spelling', () => {
    expect(configError({ TRUST_PROXY: 'maybe' })).toContain('TRUST_PROXY');
  });
});

describe('loadConfig rejects invalid values, naming the key', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['ENCRYPTION_KEY', Buffer.alloc(16, 1).toString('base64')],
    ['ENCRYPTION_KEY', Buffer.alloc(33, 1).toString('base64')],
    ['ENCRYPTION_KEY', 'not*base64!'],
    ['PUBLIC_URL', "https://mdm.example.com/'x"],
    ['PUBLIC_URL', 'https://mdm.example.com/a"b'],
    ['PUBLIC_URL', 'https://mdm.example.com/a b'],
    ['PUBLIC_URL', 'https://mdm.example.com/$HOME'],
    ['PUBLIC_URL', 'ftp://mdm.example.com'],
    ['ADMIN_PASSWORD', 'short'],
    ['ADMIN_PASSWORD', 'x'.repeat(73)],
    ['ADMIN_EMAIL', 'not-an-email'],
    ['JWT_SECRET', 'x'.repeat(31)],
    ['HEARTBEAT_INTERVAL_SEC', '4'],
    ['LOG_LEVEL', 'verbose'],
    ['AGENT_PACKAGE', 'no-dots'],
  ])('%s=%j', (key, value) => {
    const message = configError({ [key]: value });
    expect(message).toMatch(/^invalid configuration - /);
    expect(message).toContain(`${key}:`);
  });

  it('names every bad key at once', () => {
    const message = configError({ PORT: 'abc', ADMIN_PASSWORD: 'short', LOG_LEVEL: 'loud' });
    expect(message).toContain('PORT:');
    expect(message).toContain('ADMIN_PASSWORD:');
    expect(message).toContain('LOG_LEVEL:');
  });
});

describe('describeConfig', () => {
  it('lists every key of configSchema with a non-empty description', () => {
    const rows = describeConfig();
    expect(rows.map((r) => r.key)).toEqual(Object.keys(configSchema.shape));
    for (const row of rows) {
      expect(row.description.trim(), row.key).not.toBe('');
    }
  });

  it('reports the defaults as strings and optional keys with an empty default', () => {
    const byKey = new Map(describeConfig().map((r) => [r.key, r]));
    expect(byKey.get('PORT')?.defaultValue).toBe('8080');
    expect(byKey.get('HEARTBEAT_INTERVAL_SEC')?.defaultValue).toBe('300');
    expect(byKey.get('TRUST_PROXY')?.defaultValue).toBe('false');
    expect(byKey.get('DATABASE_URL')?.defaultValue).toBe('');
  });
});
