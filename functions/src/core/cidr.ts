import { isIP } from 'node:net';

/** An address range: `address/prefix`. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8, 192.168.1.1, fd00::/8` (a bare address is a /32 or /128); throws naming a bad entry. */
export function parseCidrs(list: string): Cidr[] {
  const out: Cidr[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address = '', prefixText, extra] = entry.split('/');
    const version = isIP(address);
    const max = version === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!version || extra !== undefined || !(prefix >= 0 && prefix <= max)) throw new Error(`not an IP address or CIDR range: ${entry}`);
    out.push({ address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' });
  }
  return out;
}

/** The socket address without the IPv4-mapped prefix (`::ffff:1.2.3.4` is 1.2.3.4). */
export function normalizeAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
