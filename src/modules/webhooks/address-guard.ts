import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { IPv6, parse } from 'ipaddr.js';

/**
 * Where a webhook may not go: any address in a special-purpose range, as
 * ipaddr.js classifies them (IANA's IPv4 and IPv6 special-purpose registries
 * and more: private, loopback, link-local, cloud metadata at 169.254.169.254
 * and fd00:ec2::254, CGNAT, benchmarking, documentation, multicast,
 * reserved, and every IPv6 form that carries an IPv4 address: mapped,
 * translated, NAT64, 6to4, Teredo), refused whole. Numeric spellings
 * (2130706433, 0x7f.1) never reach here: the URL parser turns them into dotted quads.
 */
// IANA allocates global unicast IPv6 only from 2000::/3; ipaddr.js calls the rest (::7f00:1, IPv4-compatible, say) plain unicast.
const GLOBAL_UNICAST_V6 = IPv6.parseCIDR('2000::/3');

/** True for an address a webhook must not connect to (and for anything that is not an IP address). */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  // isIP first: ipaddr.js alone would also read 0x7f.1 or 2130706433 as addresses.
  if (isIP(bare) === 0) return true;
  const parsed = parse(bare);
  if (parsed.range() !== 'unicast') return true;
  // A zone (fe80::1%eth0) scopes an address to a link.
  return parsed instanceof IPv6 && (parsed.zoneId !== undefined || !parsed.match(GLOBAL_UNICAST_V6));
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
    dnsLookup(
      hostname,
      { all: true, family: options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : options.family },
      (error, addresses) => {
        if (error) return callback(error, []);
        const forbidden = addresses.find((entry) => isForbiddenAddress(entry.address));
        if (forbidden && !allowPrivate) return callback(new ForbiddenDestinationError(hostname, forbidden.address), []);
        if (options.all) return callback(null, addresses);
        return callback(null, addresses[0].address, addresses[0].family);
      },
    );
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
