import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * True when an outbound connection to this address must be refused. Only globally routable unicast
 * passes: anything ipaddr.js classifies otherwise (loopback, private, link-local, CGNAT, unique-local,
 * multicast, reserved, documentation, IPv4-mapped/translated/6to4/Teredo forms that can smuggle an
 * internal IPv4 address) is blocked, and so is anything that does not parse.
 */
export function isBlockedAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone id pins a link-local interface; never a public destination.
  if (bare.includes('%')) return true;
  if (isIP(bare) === 0) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(bare);
  } catch {
    return true;
  }
  if (parsed.kind() === 'ipv4') {
    const v4 = parsed as ipaddr.IPv4;
    if (v4.octets[0] === 0) return true;
    return v4.range() !== 'unicast';
  }
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return true;
  // The deprecated IPv4-compatible form ::a.b.c.d (and anything else in ::/96) routes to IPv4 on some stacks.
  if (v6.parts.slice(0, 6).every((p) => p === 0)) return true;
  return v6.range() !== 'unicast';
}
