import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseCidrs } from '../../core/cidr.js';
import { createEgressGuard } from './egress-guard.js';

describe('egress guard', () => {
  it('refuses loopback, private, shared, link-local (metadata), unique-local, multicast and reserved addresses', () => {
    const guard = createEgressGuard();
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '0.0.0.0',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.10',
      '100.64.0.1',
      '169.254.169.254',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'fe80::1',
      'fd00::1',
      'ff02::1',
      '64:ff9b::a00:1',
    ]) {
      expect(guard.allows(address), address).toBe(false);
    }
    for (const address of ['8.8.8.8', '162.159.135.232', '172.32.0.1', '2606:4700::6810:84e5'])
      expect(guard.allows(address), address).toBe(true);
    expect(guard.allows('not-an-address')).toBe(false);
  });

  it('opens exactly the ranges it is told to (an on-premises SMTP relay)', () => {
    const guard = createEgressGuard({ allow: parseCidrs('10.0.0.5, fd12::/16') });
    expect(guard.allows('10.0.0.5')).toBe(true);
    expect(guard.allows('::ffff:10.0.0.5')).toBe(true);
    expect(guard.allows('10.0.0.6')).toBe(false);
    expect(guard.allows('fd12::9')).toBe(true);
    expect(guard.allows('127.0.0.1')).toBe(false);
  });

  it('checks every address a name resolves to when a socket connects, and refuses the name if any is internal', async () => {
    const guard = createEgressGuard({
      resolve: (host, cb) =>
        cb(
          null,
          host === 'mixed.example.test'
            ? [
                { address: '93.184.216.34', family: 4 },
                { address: '127.0.0.1', family: 4 },
              ]
            : [{ address: '127.0.0.1', family: 4 }],
        ),
    });
    for (const host of ['mixed.example.test', 'rebind.example.test']) {
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const socket = connect({ host, port: 9, lookup: guard.lookup });
        socket.on('error', resolve);
        socket.on('connect', () => resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' })));
      });
      expect(err.code, host).toBe('EGRESS_REFUSED');
    }
  });
});
