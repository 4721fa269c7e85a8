import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { normalizeAddress, type Cidr } from '../../core/cidr.js';

/**
 * Where the server's own outbound connections (alert webhooks, SMTP) may go. A name is resolved and
 * every address it resolves to is checked at connect time - the socket connects only to an address
 * that passed, so a name that resolves to a public address when saved and to 127.0.0.1 when used
 * (DNS rebinding) is refused too. Refused unless allowed: loopback, private, shared (CGNAT),
 * link-local (which holds the cloud metadata service, 169.254.169.254), unique-local, multicast,
 * reserved and unspecified addresses. `allow` lists ranges an operator opens on purpose, such as an
 * on-premises SMTP relay (EGRESS_ALLOW_CIDRS).
 */
export interface EgressGuard {
  /** A `lookup` for net/tls/http(s) connections: resolves, then fails with EGRESS_REFUSED on a refused address. */
  lookup: LookupFunction;
  /** Whether a literal address may be connected to. */
  allows(address: string): boolean;
  /**
   * The refusal for a host that is a refused literal address (Node connects to a literal without
   * calling `lookup`, so a caller checks it before connecting); undefined for names and allowed addresses.
   */
  refusal(host: string): EgressRefusedError | undefined;
}

/** The ranges no outbound alert connection may reach unless allowed. */
const REFUSED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network", unspecified
  ['10.0.0.0', 8, 'ipv4'], // private
  ['100.64.0.0', 10, 'ipv4'], // shared address space (CGNAT)
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata
  ['172.16.0.0', 12, 'ipv4'], // private
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['192.0.2.0', 24, 'ipv4'], // documentation
  ['192.168.0.0', 16, 'ipv4'], // private
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['198.51.100.0', 24, 'ipv4'], // documentation
  ['203.0.113.0', 24, 'ipv4'], // documentation
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['64:ff9b::', 96, 'ipv6'], // NAT64 (embeds IPv4: could reach any of the above)
  ['100::', 64, 'ipv6'], // discard
  ['2001:db8::', 32, 'ipv6'], // documentation
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';
  constructor(readonly address: string) {
    super(`outbound connections to ${address} are not allowed (a loopback, private, link-local or reserved address)`);
  }
}

type Resolve = (
  hostname: string,
  callback: (err: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]) => void,
) => void;

const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true, verbatim: true }, callback);

export function createEgressGuard(options: { allow?: Cidr[]; resolve?: Resolve } = {}): EgressGuard {
  const refused = new BlockList();
  for (const [address, prefix, family] of REFUSED) refused.addSubnet(address, prefix, family);
  const allowed = new BlockList();
  for (const c of options.allow ?? []) allowed.addSubnet(c.address, c.prefix, c.family);
  const resolve = options.resolve ?? systemResolve;

  const allows = (raw: string): boolean => {
    const address = normalizeAddress(raw);
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (allowed.check(address, type)) return true;
    // an IPv4-compatible or -mapped IPv6 form is judged as the IPv4 address it names
    if (type === 'ipv6' && /^::(ffff:)?\d+\.\d+\.\d+\.\d+$/i.test(address)) return allows(address.replace(/^::(ffff:)?/i, ''));
    return !refused.check(address, type);
  };

  const lookup: LookupFunction = (hostname, opts, callback) => {
    const literal = hostname.replace(/^\[|\]$/g, '');
    const done = (err: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]) => {
      if (err) return callback(err, '', 4);
      const wanted = opts.family === 4 || opts.family === 6 ? addresses.filter((a) => a.family === opts.family) : addresses;
      if (wanted.length === 0) {
        const notFound: NodeJS.ErrnoException = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
        return callback(notFound, '', 4);
      }
      // every address must pass: a name that also resolves to an internal one is not used at all
      const bad = wanted.find((a) => !allows(a.address));
      if (bad) return callback(new EgressRefusedError(bad.address), '', 4);
      if (opts.all) return (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, wanted);
      callback(null, wanted[0]!.address, wanted[0]!.family);
    };
    if (isIP(literal)) done(null, [{ address: literal, family: isIP(literal) }]);
    else resolve(hostname, done);
  };

  const refusal = (host: string) => {
    const literal = host.replace(/^\[|\]$/g, '');
    return isIP(literal) && !allows(literal) ? new EgressRefusedError(literal) : undefined;
  };

  return { lookup, allows, refusal };
}
