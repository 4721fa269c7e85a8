import { describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../../src/sim/options.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseCli(argv, env);
  if (command.kind !== 'run') throw new Error('expected a run');
  return command;
};

describe('parseCli', () => {
  it('takes the crash model', () => {
    const { fleet } = run(['--devices', '5', '--app-version-code', '1', '--crash-version-code', '2', '--crash-share', '0.25']);
    expect(fleet).toMatchObject({ appVersionCode: 1, crash: { versionCode: 2, share: 0.25 } });
    expect(run(['--devices', '5', '--crash-version-code', '2']).fleet.crash).toEqual({ versionCode: 2, share: 0.2 });
    expect(run(['--devices', '5']).fleet.crash).toBeUndefined();
    expect(() => run(['--devices', '5', '--crash-share', '0.2'])).toThrow(UsageError);
    expect(() => run(['--devices', '5', '--crash-version-code', '2', '--crash-share', '2'])).toThrow(UsageError);
  });

  it('applies the documented defaults', () => {
    const { fleet, progress, failOnError, jsonSummary } = run(['--devices', '10']);
    expect(fleet).toMatchObject({
      url: 'http://localhost:8080',
      devices: 10,
      intervalSec: 300,
      concurrency: 32,
      maxSockets: 128,
      chaos: 1,
      seed: 1,
      appPackage: 'com.example.kiosk',
      durationSec: undefined,
      enrollment: { kind: 'admin', email: 'admin@localhost', password: '' },
    });
    expect({ progress, failOnError, jsonSummary }).toEqual({ progress: 'auto', failOnError: false, jsonSummary: undefined });
  });

  it('takes every option', () => {
    const { fleet, failOnError, jsonSummary, progress } = run([
      '--devices=5',
      '--url',
      'https://mdm.example.com/base',
      '--interval-sec',
      '2.5',
      '--token',
      'mdmet_x',
      '--state',
      's.json',
      '--concurrency',
      '4',
      '--max-sockets',
      '8',
      '--timeout-ms',
      '500',
      '--app',
      'com.acme.sign',
      '--chaos',
      '3',
      '--seed',
      '99',
      '--duration',
      '20',
      '--json-summary',
      'out.json',
      '--fail-on-error',
      '--progress',
      'plain',
      '--obey-server-interval',
      '--time-scale',
      '60',
      '--mains-powered',
      '0.8',
    ]);
    expect(fleet).toMatchObject({
      url: 'https://mdm.example.com/base',
      devices: 5,
      intervalSec: 2.5,
      concurrency: 4,
      maxSockets: 8,
      timeoutMs: 500,
      appPackage: 'com.acme.sign',
      chaos: 3,
      seed: 99,
      durationSec: 20,
      stateFile: 's.json',
      obeyServerInterval: true,
      timeScale: 60,
      mainsPowered: 0.8,
      enrollment: { kind: 'token', token: 'mdmet_x' },
    });
    expect({ failOnError, jsonSummary, progress }).toEqual({ failOnError: true, jsonSummary: 'out.json', progress: 'plain' });
  });

  it('reads admin credentials and the URL from the environment', () => {
    const { fleet } = run(['--devices', '1', '--group', 'Lab'], {
      MDM_URL: 'http://10.0.0.1:9000',
      MDM_EMAIL: 'a@b.c',
      MDM_PASSWORD: 'pw',
    });
    expect(fleet.url).toBe('http://10.0.0.1:9000');
    expect(fleet.enrollment).toEqual({ kind: 'admin', email: 'a@b.c', password: 'pw', group: 'Lab' });
    expect(run(['--devices', '1', '--admin-token', 'jwt']).fleet.enrollment).toMatchObject({ adminToken: 'jwt' });
  });

  it.each([
    [[]],
    [['--devices', '0']],
    [['--devices', '2.5']],
    [['--devices', 'ten']],
    [['--devices', '1', '--interval-sec', '0']],
    [['--devices', '1', '--chaos', '-1']],
    [['--devices', '1', '--url', 'ftp://x']],
    [['--devices', '1', '--app', 'kiosk']],
    [['--devices', '1', '--progress', 'fancy']],
    [['--devices', '1', '--bogus']],
    [['--devices', '1', 'stray']],
  ])('refuses %j', (argv) => {
    expect(() => parseCli(argv, {})).toThrow(UsageError);
  });

  it('recognizes --help', () => {
    expect(parseCli(['--help'], {})).toEqual({ kind: 'help' });
  });
});
