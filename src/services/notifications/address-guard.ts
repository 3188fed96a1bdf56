import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** A webhook URL that resolves to an address Wharf refuses to call (SSRF guard). */
export class BlockedAddressError extends Error {
  constructor(readonly address: string) {
    super(`refused to connect to ${address}: loopback, private, link-local and metadata addresses are not allowed (WEBHOOK_ALLOW_PRIVATE=1 allows them)`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * Only public unicast addresses: ipaddr.js names every special range (loopback, private,
 * link-local — where cloud metadata lives, 169.254.169.254 —, unique-local, CGNAT, multicast,
 * reserved…); an IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * The `lookup` an HTTP request connects through: the name is resolved once, and the address
 * actually connected to is the one checked (no DNS-rebinding gap between check and connect).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '', 0);
      const list = addresses as dns.LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(Object.assign(new BlockedAddressError(bad.address), { code: 'EBLOCKED' }), options.all ? [] : '', 0);
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** An IP literal never goes through `lookup`: it is checked here. */
export function checkLiteralHost(url: URL, allowPrivate: boolean): void {
  const host = hostOf(url);
  if (net.isIP(host) && !allowPrivate && !isPublicAddress(host)) throw new BlockedAddressError(host);
}
