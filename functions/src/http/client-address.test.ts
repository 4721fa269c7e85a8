import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedCidrs, proxyTrust } from './client-address.js';

describe('client address resolution', () => {
  const none = proxyTrust({ hops: 0 });
  const one = proxyTrust({ hops: 1 });
  const two = proxyTrust({ hops: 2 });

  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress(none, '::ffff:198.51.100.7', '1.2.3.4')).toBe('198.51.100.7');
    expect(clientAddress(none, '2001:db8::1', undefined)).toBe('2001:db8::1');
  });

  it('is the right-most entry not written by a trusted hop, never the client-supplied left-most', () => {
    // the client forged "1.2.3.4"; one proxy (nginx) appended the real peer
    expect(clientAddress(one, '10.0.0.2', '1.2.3.4, 198.51.100.7')).toBe('198.51.100.7');
    // Hosting: <forged>, <client>, <Google front end>
    expect(clientAddress(two, '169.254.1.1', '1.2.3.4, 5.6.7.8, 198.51.100.7, 35.191.0.1')).toBe('198.51.100.7');
    expect(clientAddress(two, '169.254.1.1', ['1.2.3.4, 198.51.100.7', '35.191.0.1'])).toBe('198.51.100.7');
  });

  it('takes the left-most entry when there are fewer entries than trusted hops (all were written by trusted hops)', () => {
    expect(clientAddress(two, '169.254.1.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(clientAddress(one, '10.0.0.2', undefined)).toBe('10.0.0.2');
    expect(clientAddress(one, '10.0.0.2', '')).toBe('10.0.0.2');
  });

  it('ignores anything that is not an IP address and falls back to the socket address', () => {
    expect(clientAddress(one, '10.0.0.2', '=HYPERLINK("http://x")')).toBe('10.0.0.2');
    expect(clientAddress(one, '10.0.0.2', 'a'.repeat(8192))).toBe('10.0.0.2');
    expect(clientAddress(one, '10.0.0.2', '1.2.3.4, 999.1.1.1')).toBe('10.0.0.2');
    expect(clientAddress(one, '10.0.0.2', '1.2.3.4, 198.51.100.7:443')).toBe('10.0.0.2');
    expect(clientAddress(none, undefined, undefined)).toBe('unknown');
  });

  it('skips entries from trusted CIDRs, walking from the right', () => {
    const cidrs = proxyTrust({ hops: 0, cidrs: parseTrustedCidrs('10.0.0.0/8, 192.168.1.1, fd00::/8') });
    expect(clientAddress(cidrs, '10.0.0.2', '1.2.3.4, 198.51.100.7, 192.168.1.1, 10.9.9.9')).toBe('198.51.100.7');
    // a peer outside the trusted ranges is the client: its X-Forwarded-For is not read at all
    expect(clientAddress(cidrs, '203.0.113.9', '198.51.100.7')).toBe('203.0.113.9');
    expect(clientAddress(cidrs, 'fd00::5', '2001:db8::7')).toBe('2001:db8::7');
    // hops and ranges together: the hops first, then any trusted range
    const both = proxyTrust({ hops: 1, cidrs: parseTrustedCidrs('10.0.0.0/8') });
    expect(clientAddress(both, '35.191.0.1', '1.2.3.4, 198.51.100.7, 10.1.1.1')).toBe('198.51.100.7');
  });

  it('refuses malformed CIDR lists', () => {
    expect(() => parseTrustedCidrs('10.0.0.0/33')).toThrow(/10.0.0.0\/33/);
    expect(() => parseTrustedCidrs('example.com')).toThrow(/example.com/);
    expect(parseTrustedCidrs('')).toEqual([]);
  });
});
