// Where a webhook may be sent. A channel names the URL, so without a check it could make the gateway
// POST into the platform's own network (PostgreSQL, Redis, a cloud's metadata endpoint at
// 169.254.169.254, an admin port on localhost): server-side request forgery. By default only public
// addresses are reached: the URL is refused at subscription when its host is a non-public IP literal
// or a localhost name, and every delivery resolves the host itself and connects only to an address it
// checked (the check is the connection's own DNS lookup, so a name cannot resolve to a public address
// for the check and a private one for the connection). GATEWAY_WEBHOOK_PRIVATE_TARGETS=allow lifts
// this for development, where receivers run on the same machine.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export type PrivateTargets = 'refuse' | 'allow';

/** Addresses that are not on the public internet (IANA special-purpose registries). */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** True for an IP address on the public internet; false for private, loopback, link-local, reserved ... and for what is not an IP. */
export function isPublicAddress(address: string): boolean {
  const unbracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const mapped = IPV4_MAPPED.exec(unbracketed);
  const candidate = mapped ? (mapped[1] as string) : unbracketed;
  const family = isIP(candidate);
  if (family === 0) return false;
  return !NON_PUBLIC.check(candidate, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why a subscription's URL is refused, or undefined. Only what the URL itself says: a host name is
 * resolved at each delivery, since its addresses may change.
 */
export function webhookUrlRefusal(url: string, policy: PrivateTargets): string | undefined {
  if (policy === 'allow') return undefined;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'the url does not parse';
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name === 'localhost' || name.endsWith('.localhost')) return `host ${host} is this machine`;
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0 && !isPublicAddress(literal)) return `address ${literal} is not on the public internet`;
  return undefined;
}

/** The error a delivery fails with when its host resolves to an address it may not reach. */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';

  constructor(hostname: string, address: string) {
    super(`webhook host ${hostname} resolves to ${address}, which is not on the public internet`);
    this.name = 'BlockedAddressError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request / net.connect that resolves like dns.lookup and fails when any address
 * the name resolves to is not public (a name with one private address among public ones is refused
 * whole: the connection could pick any of them).
 */
export function publicOnlyLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((entry) => !isPublicAddress(entry.address));
    if (blocked !== undefined) return callback(new BlockedAddressError(hostname, blocked.address), []);
    if ((options as LookupAllOptions).all === true) return callback(null, addresses);
    const [first] = addresses;
    if (first === undefined) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    return callback(null, first.address, first.family);
  });
}
