import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may not go: private, loopback, link-local (cloud metadata
 * lives at 169.254.169.254 and fd00:ec2::254), CGNAT, multicast, reserved and
 * documentation ranges, in IPv4 and IPv6, including IPv4-mapped and
 * -compatible IPv6 (refused whole). Numeric spellings (2130706433, 0x7f.1) never reach here:
 * the URL parser turns them into dotted quads.
 */
// Two lists: a BlockList also matches IPv4 addresses against IPv6 rules as IPv4-mapped, which ::ffff:0:0/96 would turn into "all of IPv4".
const BLOCKED_V4 = new BlockList();
const BLOCKED_V6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  BLOCKED_V4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  BLOCKED_V6.addSubnet(network, prefix, 'ipv6');
}

/** True for an address a webhook must not connect to (and for anything that is not an IP address). */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return BLOCKED_V4.check(bare, 'ipv4');
  // IPv4-mapped (::ffff:0:0/96) and -compatible (::/96) addresses are refused whole, whatever IPv4 address they carry.
  if (family === 6) return BLOCKED_V6.check(bare, 'ipv6');
  return true;
}

export class ForbiddenDestinationError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private or reserved address`);
    this.name = 'ForbiddenDestinationError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses forbidden addresses: the check is
 * made on the very addresses the socket connects to, so a DNS answer that
 * changes between a check and the connection (rebinding) cannot slip past.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : options.family }, (error, addresses) => {
      if (error) return callback(error, []);
      const forbidden = addresses.find((entry) => isForbiddenAddress(entry.address));
      if (forbidden && !allowPrivate) return callback(new ForbiddenDestinationError(hostname, forbidden.address), []);
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Resolves the host (or reads the literal address) and refuses a forbidden one: for checking a URL when it is registered. */
export async function assertPublicHost(hostname: string): Promise<void> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    if (isForbiddenAddress(bare)) throw new ForbiddenDestinationError(hostname, bare);
    return;
  }
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(bare, { all: true }, (error, found) => (error ? reject(error) : resolve(found))),
  );
  const forbidden = addresses.find((entry) => isForbiddenAddress(entry.address));
  if (forbidden) throw new ForbiddenDestinationError(hostname, forbidden.address);
}
