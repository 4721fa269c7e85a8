import { BlockList, isIP } from 'node:net';
import { normalizeAddress, type Cidr } from '../core/cidr.js';

export { normalizeAddress, parseCidrs as parseTrustedCidrs, type Cidr } from '../core/cidr.js';

/**
 * Which client address a request is counted, rate-limited and audited under. Proxies append the
 * address of the peer they accepted to `X-Forwarded-For`, so only its right-most entries were
 * written by someone we trust; everything left of them is whatever the client sent. The address is
 * the right-most entry that no trusted hop wrote: `hops` proxies in front of the server (each appends
 * one entry; the socket peer is the last of them), then any entry inside `cidrs`. An entry that is
 * not an IP address is never returned: the socket address stands in for it.
 */
export interface ProxyTrust {
  /** Proxies in front of the server that append to X-Forwarded-For (0: the header is ignored). */
  hops: number;
  /** Addresses of proxies we run, trusted wherever they appear in the chain. */
  cidrs: BlockList | undefined;
}

/** Most X-Forwarded-For entries looked at (from the right); a longer header is not ours anyway. */
const MAX_ENTRIES = 32;

export function proxyTrust(opts: { hops: number; cidrs?: Cidr[] }): ProxyTrust {
  let cidrs: BlockList | undefined;
  if (opts.cidrs?.length) {
    cidrs = new BlockList();
    for (const c of opts.cidrs) cidrs.addSubnet(c.address, c.prefix, c.family);
  }
  return { hops: Math.max(0, Math.floor(opts.hops)), cidrs };
}

function isTrusted(trust: ProxyTrust, address: string, index: number): boolean {
  if (index < trust.hops) return true;
  if (!trust.cidrs) return false;
  const version = isIP(address);
  return version !== 0 && trust.cidrs.check(address, version === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: walking from the socket peer leftwards through X-Forwarded-For, the first
 * address no trusted hop accounts for; when every entry is trusted, the left-most one. Never a value
 * that is not an IP address (that falls back to the socket peer), so nothing else is ever stored.
 */
export function clientAddress(trust: ProxyTrust, socketAddress: string | undefined, forwarded: string | string[] | undefined): string {
  const peer = socketAddress ? normalizeAddress(socketAddress) : undefined;
  const fallback = peer && isIP(peer) ? peer : 'unknown';
  if (!peer || (trust.hops === 0 && !trust.cidrs)) return fallback;
  const header = Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '');
  // only the right-most entries can matter; an 8 KB header is cut before it is split
  const tail = header.length > MAX_ENTRIES * 48 ? header.slice(-MAX_ENTRIES * 48) : header;
  const entries = tail
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .slice(-MAX_ENTRIES);
  // the chain from the server outwards: the socket peer, then X-Forwarded-For right to left
  const chain = [peer, ...entries.reverse()];
  for (let i = 0; i < chain.length; i++) {
    const address = normalizeAddress(chain[i]!);
    if (!isIP(address)) return fallback;
    if (!isTrusted(trust, address, i) || i === chain.length - 1) return address;
  }
  return fallback;
}
