import { IPv4, IPv6, parseCIDR } from 'ipaddr.js';
import { isForbiddenAddress } from '../../src/modules/webhooks/address-guard';
import { createOrganization, ok, type Session } from '../support/organizations';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

/** IANA's IPv4 Special-Purpose Address Registry, every entry (globally reachable or not: a webhook has no business in any). */
const IPV4_SPECIAL = [
  ['"This network"', '0.0.0.0/8'],
  ['Private-Use', '10.0.0.0/8'],
  ['Shared Address Space (CGNAT)', '100.64.0.0/10'],
  ['Loopback', '127.0.0.0/8'],
  ['Link Local (cloud metadata)', '169.254.0.0/16'],
  ['Private-Use', '172.16.0.0/12'],
  ['IETF Protocol Assignments', '192.0.0.0/24'],
  ['IPv4 Service Continuity Prefix', '192.0.0.0/29'],
  ['IPv4 dummy address', '192.0.0.8/32'],
  ['Port Control Protocol Anycast', '192.0.0.9/32'],
  ['TURN Anycast', '192.0.0.10/32'],
  ['NAT64/DNS64 Discovery', '192.0.0.170/31'],
  ['Documentation (TEST-NET-1)', '192.0.2.0/24'],
  ['AS112-v4', '192.31.196.0/24'],
  ['AMT', '192.52.193.0/24'],
  ['Deprecated (6to4 Relay Anycast)', '192.88.99.0/24'],
  ['Private-Use', '192.168.0.0/16'],
  ['Direct Delegation AS112 Service', '192.175.48.0/24'],
  ['Benchmarking', '198.18.0.0/15'],
  ['Documentation (TEST-NET-2)', '198.51.100.0/24'],
  ['Documentation (TEST-NET-3)', '203.0.113.0/24'],
  ['Multicast', '224.0.0.0/4'],
  ['Reserved', '240.0.0.0/4'],
  ['Limited Broadcast', '255.255.255.255/32'],
] as const;

/** IANA's IPv6 Special-Purpose Address Registry, every entry, and the other ranges no webhook may reach. */
const IPV6_SPECIAL = [
  ['Loopback Address', '::1/128'],
  ['Unspecified Address', '::/128'],
  ['IPv4-mapped Address', '::ffff:0:0/96'],
  ['IPv4-IPv6 Translat. (well-known NAT64 prefix)', '64:ff9b::/96'],
  ['IPv4-IPv6 Translat. (local-use NAT64)', '64:ff9b:1::/48'],
  ['Discard-Only Address Block', '100::/64'],
  ['Dummy IPv6 Prefix', '100:0:0:1::/64'],
  ['IETF Protocol Assignments', '2001::/23'],
  ['TEREDO', '2001::/32'],
  ['Port Control Protocol Anycast', '2001:1::1/128'],
  ['TURN Anycast', '2001:1::2/128'],
  ['DNS-SD Service Registration Protocol Anycast', '2001:1::3/128'],
  ['Benchmarking', '2001:2::/48'],
  ['AMT', '2001:3::/32'],
  ['AS112-v6', '2001:4:112::/48'],
  ['Deprecated (previously ORCHID)', '2001:10::/28'],
  ['ORCHIDv2', '2001:20::/28'],
  ['Drone Remote ID Protocol Entity Tags', '2001:30::/28'],
  ['Documentation', '2001:db8::/32'],
  ['6to4', '2002::/16'],
  ['Direct Delegation AS112 Service', '2620:4f:8000::/48'],
  ['Documentation', '3fff::/20'],
  ['Segment Routing (SRv6) SIDs', '5f00::/16'],
  ['Unique-Local (cloud metadata at fd00:ec2::254)', 'fc00::/7'],
  ['Link-Local Unicast', 'fe80::/10'],
  // Not in the registry, still never a webhook receiver:
  ['IPv4-compatible (deprecated, RFC 4291)', '::/96'],
  ['IPv4-translated (RFC 2765)', '::ffff:0:0:0/96'],
  ['Site-local (deprecated, RFC 3879)', 'fec0::/10'],
  ['Multicast', 'ff00::/8'],
  ['Reserved by IETF, outside global unicast', '4000::/3'],
] as const;

/** The first, a middle and the last address of a range. */
function samples(cidr: string): string[] {
  const [network, prefix] = parseCIDR(cidr);
  const bytes = network.toByteArray();
  const last = bytes.map((byte, index) => byte | (0xff >> Math.min(8, Math.max(0, prefix - index * 8))));
  const middle = bytes.map((byte, index) =>
    index === bytes.length - 1 && prefix < bytes.length * 8 ? byte | 1 : byte,
  );
  const text = (octets: number[]) => (octets.length === 4 ? new IPv4(octets).toString() : new IPv6(octets).toString());
  return [...new Set([text(bytes), text(middle), text(last)])];
}

/** Private and loopback IPv4 addresses, to be smuggled inside IPv6 forms. */
const PRIVATE_V4 = ['127.0.0.1', '10.0.0.8', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0'];

/** Every IPv6 form that carries an IPv4 address. */
function ipv6FormsOf(v4: string): string[] {
  const [a, b, c, d] = IPv4.parse(v4).octets;
  const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
  const obfuscated = (high: number, low: number) => (0xffff ^ ((high << 8) | low)).toString(16);
  return [
    `::ffff:${v4}`, // IPv4-mapped, dotted
    `::ffff:${hex(a, b)}:${hex(c, d)}`, // IPv4-mapped, hex
    `::ffff:0:${hex(a, b)}:${hex(c, d)}`, // IPv4-translated
    `::${v4}`, // IPv4-compatible
    `64:ff9b::${v4}`, // NAT64, well-known prefix
    `64:ff9b:1::${hex(a, b)}:${hex(c, d)}`, // NAT64, local-use prefix
    `2002:${hex(a, b)}:${hex(c, d)}::1`, // 6to4
    `2001:0:4136:e378:8000:63bf:${obfuscated(a, b)}:${obfuscated(c, d)}`, // Teredo (the client address is stored inverted)
  ];
}

describe('the webhook address guard (isForbiddenAddress)', () => {
  it.each(IPV4_SPECIAL)('refuses IPv4 %s (%s), first to last address', (_name, cidr) => {
    for (const address of samples(cidr))
      expect([cidr, address, isForbiddenAddress(address)]).toEqual([cidr, address, true]);
  });

  it.each(IPV6_SPECIAL)('refuses IPv6 %s (%s), first to last address, bracketed or not', (_name, cidr) => {
    for (const address of samples(cidr)) {
      expect([cidr, address, isForbiddenAddress(address)]).toEqual([cidr, address, true]);
      expect([cidr, address, isForbiddenAddress(`[${address}]`)]).toEqual([cidr, address, true]);
    }
  });

  it.each(PRIVATE_V4)(
    'refuses %s in every IPv6 form that carries an IPv4 address (mapped, translated, compatible, NAT64, 6to4, Teredo)',
    (v4) => {
      for (const address of ipv6FormsOf(v4)) expect([address, isForbiddenAddress(address)]).toEqual([address, true]);
    },
  );

  it('refuses ::ffff:0:7f00:1, the IPv4-translated loopback the hand-written list let through', () => {
    expect(isForbiddenAddress('::ffff:0:7f00:1')).toBe(true);
    expect(isForbiddenAddress('0:0:0:0:ffff:0:7f00:1')).toBe(true);
  });

  it('refuses anything that is not a plain IP address: names, numeric spellings, zones', () => {
    for (const value of [
      'not-an-ip',
      'localhost',
      '',
      '2130706433',
      '0x7f.1',
      '127.1',
      '017700000001',
      'fe80::1%eth0',
      '2606:4700:4700::1111%1',
    ]) {
      expect([value, isForbiddenAddress(value)]).toEqual([value, true]);
    }
  });

  it('allows public unicast addresses, right up to the edges of the ranges around them', () => {
    for (const address of [
      '93.184.216.34',
      '8.8.8.8',
      '1.1.1.1',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.0.1.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '2a00:1450:4001:80b::200e',
      '2001:200::1',
      '2001:db9::1',
      '2003::1',
      '2620:4f:8001::1',
      '3fff:1000::1',
      '2000::1',
    ]) {
      expect([address, isForbiddenAddress(address)]).toEqual([address, false]);
      if (address.includes(':')) expect([address, isForbiddenAddress(`[${address}]`)]).toEqual([address, false]);
    }
  });
});

describe('createWebhookEndpoint without WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
  const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;
  let api: TestApp;
  let admin: Session;

  beforeAll(async () => {
    api = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    admin = await signUp(api);
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('refuses a URL on any IPv6 form of a private address with BAD_USER_INPUT naming the url, and stores nothing', async () => {
    const organization = await createOrganization(api, admin);
    for (const address of ['::ffff:0:7f00:1', ...ipv6FormsOf('10.0.0.8'), 'fd00:ec2::254', '2001:db8::1', '100::1']) {
      const url = `https://[${address}]/hook`;
      const response = await api.gql(
        CREATE_ENDPOINT,
        { input: { organizationId: organization.id, url, eventTypes: ['task.created'] } },
        { token: admin.accessToken },
      );
      expect([url, response.body.errors?.[0]?.extensions.code]).toEqual([url, 'BAD_USER_INPUT']);
      expect(response.body.errors![0].extensions.validationErrors).toEqual([
        { field: 'url', messages: [expect.stringMatching(/private or reserved address/)] },
      ]);
    }
    expect(await api.app.dataSource.query('SELECT 1 FROM webhook_endpoints')).toEqual([]);
  });

  it('registers an endpoint on a public IPv6 address', async () => {
    const organization = await createOrganization(api, admin);
    const input = {
      organizationId: organization.id,
      url: 'https://[2606:4700:4700::1111]/hook',
      eventTypes: ['task.created'],
    };
    const data = await ok(api.gql(CREATE_ENDPOINT, { input }, { token: admin.accessToken }));
    expect(data.createWebhookEndpoint.endpoint.id).toEqual(expect.any(String));
  });
});
