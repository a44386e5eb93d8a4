import { randomUUID } from 'node:crypto';
import {
  ACCEPT,
  addMember,
  CHANGE_ROLE,
  CREATE_ORGANIZATION,
  createOrganization,
  invitationTokenFor,
  INVITE,
  membershipIdOf,
  ok,
  REMOVE,
  type Session,
} from '../support/organizations';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';

let api: TestApp;
let owner: Session;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
});

afterAll(async () => {
  await api?.stop();
});

const codeOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

const ORGANIZATION = `query Org($id: ID!) { organization(id: $id) { id name slug viewerRole } }`;
const MEMBERS = `query Members($id: ID!, $first: Int, $after: String) {
  organization(id: $id) { members(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id role createdAt user { id name email } } } } } }`;

describe('createOrganization', () => {
  it('makes the creator its OWNER and derives a URL-safe slug from the name', async () => {
    const name = `Café Zürich & Co ${randomUUID().slice(0, 4)}`;
    const organization = await createOrganization(api, owner, name);
    expect(organization).toMatchObject({ name, viewerRole: 'OWNER' });
    expect(organization.slug).toMatch(/^cafe-zurich-co-[a-z0-9]{4}$/);

    const members = await ok(api.gql(MEMBERS, { id: organization.id }, { token: owner.accessToken }));
    expect(members.organization.members.edges).toEqual([
      expect.objectContaining({
        node: expect.objectContaining({ role: 'OWNER', user: expect.objectContaining({ id: owner.user.id }) }),
      }),
    ]);
  });

  it('gives a derived slug that is taken a suffix instead of failing', async () => {
    const name = `Twin ${randomUUID().slice(0, 6)}`;
    const first = await createOrganization(api, owner, name);
    const second = await createOrganization(api, owner, name);
    expect(second.slug).not.toBe(first.slug);
    expect(second.slug.startsWith(first.slug)).toBe(true);
  });

  it('rejects an explicit slug that is taken with CONFLICT', async () => {
    const slug = `taken-${randomUUID().slice(0, 8)}`;
    await createOrganization(api, owner, 'First', slug);
    const response = await api.gql(
      CREATE_ORGANIZATION,
      { input: { name: 'Second', slug } },
      { token: owner.accessToken },
    );
    expect(codeOf(response)).toBe('CONFLICT');
  });

  it('rejects a malformed slug and a blank name with BAD_USER_INPUT naming both', async () => {
    const response = await api.gql(
      CREATE_ORGANIZATION,
      { input: { name: '  ', slug: 'Not A Slug!' } },
      { token: owner.accessToken },
    );
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(
      response.body.errors![0].extensions.validationErrors.map((error: { field: string }) => error.field).sort(),
    ).toEqual(['name', 'slug']);
  });

  it('needs a signed-in user', async () => {
    expect(codeOf(await api.gql(CREATE_ORGANIZATION, { input: { name: 'Nobody' } }))).toBe('UNAUTHENTICATED');
  });
});

describe('organization', () => {
  it('is visible to its members with their role', async () => {
    const organization = await createOrganization(api, owner);
    const member = await addMember(api, owner, organization.id, 'MEMBER');
    const data = await ok(api.gql(ORGANIZATION, { id: organization.id }, { token: member.accessToken }));
    expect(data.organization).toMatchObject({ id: organization.id, viewerRole: 'MEMBER' });
  });

  it('is NOT_FOUND for a non-member, exactly as for an id that does not exist', async () => {
    const organization = await createOrganization(api, owner);
    const stranger = await signUp(api);
    const hidden = await api.gql(ORGANIZATION, { id: organization.id }, { token: stranger.accessToken });
    const absent = await api.gql(ORGANIZATION, { id: randomUUID() }, { token: stranger.accessToken });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(hidden.body.errors![0].message).toBe(absent.body.errors![0].message);
  });

  it('answers a malformed id with BAD_USER_INPUT', async () => {
    const response = await api.gql(ORGANIZATION, { id: 'not-a-uuid' }, { token: owner.accessToken });
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      validationErrors: [{ field: 'id', messages: ['id must be a UUID'] }],
    });
  });

  it('needs a signed-in user', async () => {
    const organization = await createOrganization(api, owner);
    expect(codeOf(await api.gql(ORGANIZATION, { id: organization.id }))).toBe('UNAUTHENTICATED');
  });
});

describe('members', () => {
  it('pages through members oldest first with opaque cursors and a total count', async () => {
    const organization = await createOrganization(api, owner);
    const joined = [owner.user.id];
    for (let i = 0; i < 4; i += 1) joined.push((await addMember(api, owner, organization.id, 'MEMBER')).user.id);

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: Record<string, any> = await ok(
        api.gql(MEMBERS, { id: organization.id, first: 2, after }, { token: owner.accessToken }),
      );
      const { edges, pageInfo, totalCount } = data.organization.members as {
        edges: { cursor: string; node: { user: { id: string } } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
        totalCount: number;
      };
      expect(totalCount).toBe(5);
      seen.push(...edges.map((edge) => edge.node.user.id));
      pages += 1;
      if (!pageInfo.hasNextPage) break;
      expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor);
      after = pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(joined);
  });

  it.each([[0], [101]])('rejects first: %i with BAD_USER_INPUT', async (first) => {
    const organization = await createOrganization(api, owner);
    const response = await api.gql(MEMBERS, { id: organization.id, first }, { token: owner.accessToken });
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      validationErrors: [{ field: 'first' }],
    });
  });

  it('rejects a malformed cursor with BAD_USER_INPUT', async () => {
    const organization = await createOrganization(api, owner);
    for (const after of ['garbage', Buffer.from('[1,2]').toString('base64url')]) {
      const response = await api.gql(MEMBERS, { id: organization.id, after }, { token: owner.accessToken });
      expect(response.body.errors![0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        validationErrors: [{ field: 'after' }],
      });
    }
  });

  it("shows co-members' emails, and nobody's memberships but the viewer's own", async () => {
    const organization = await createOrganization(api, owner);
    const member = await addMember(api, owner, organization.id, 'MEMBER');
    const data = await ok(api.gql(MEMBERS, { id: organization.id }, { token: member.accessToken }));
    const emails = data.organization.members.edges.map(
      (edge: { node: { user: { email: string } } }) => edge.node.user.email,
    );
    expect(emails).toEqual([owner.user.email, member.user.email]);

    const response = await api.gql(
      `query($id: ID!) { organization(id: $id) { members { edges { node { user { id memberships { id } } } } } } }`,
      { id: organization.id },
      { token: member.accessToken },
    );
    expect(response.body.errors!.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
  });
});

describe('batching', () => {
  it("loads the viewer's memberships once, and every organization's members in one query, per request", async () => {
    const viewer = await signUp(api);
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await createOrganization(api, viewer, `Batch ${i}`)).id);
    const fields = ids
      .map(
        (id, i) =>
          `o${i}: organization(id: "${id}") { viewerRole members(first: 5) { totalCount edges { node { role user { name } } } } }`,
      )
      .join('\n');
    const requestId = `batching-${randomUUID()}`;
    const response = await api.gql(
      `{ ${fields} }`,
      {},
      { token: viewer.accessToken, headers: { 'x-request-id': requestId } },
    );
    expect(response.body.errors).toBeUndefined();

    const statements = api.logs
      .find('sql')
      .filter((entry) => entry.requestId === requestId)
      .map((entry) => String(entry.sql));
    expect(statements.filter((sql) => /FROM "memberships"/.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => /LATERAL/.test(sql))).toHaveLength(1);
    // By-id loads are raw SQL (loadByIds): FROM organizations r, FROM users r.
    expect(statements.filter((sql) => /FROM "?organizations"? /.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => /FROM "?users"? /.test(sql))).toHaveLength(1);
    expect(statements).toHaveLength(4);
  });
});

describe('me.memberships', () => {
  it("lists the viewer's organizations with their roles", async () => {
    const user = await signUp(api);
    const own = await createOrganization(api, user, 'Own');
    const other = await createOrganization(api, owner, 'Other');
    await ok(
      api.gql(
        INVITE,
        { input: { organizationId: other.id, email: user.user.email, role: 'ADMIN' } },
        { token: owner.accessToken },
      ),
    );
    await ok(api.gql(ACCEPT, { token: await invitationTokenFor(api, user.user.email) }, { token: user.accessToken }));

    const data = await ok(
      api.gql('{ me { memberships { role organization { id name } } } }', {}, { token: user.accessToken }),
    );
    expect(data.me.memberships).toEqual([
      { role: 'OWNER', organization: { id: own.id, name: 'Own' } },
      { role: 'ADMIN', organization: { id: other.id, name: 'Other' } },
    ]);
  });
});

describe('invitations', () => {
  it('mails a single-use link that makes the invitee a member with the invited role', async () => {
    const organization = await createOrganization(api, owner, 'Inviting Co');
    const invitee = await signUp(api);
    const invitation = await ok(
      api.gql(
        INVITE,
        { input: { organizationId: organization.id, email: invitee.user.email.toUpperCase(), role: 'ADMIN' } },
        { token: owner.accessToken },
      ),
    );
    expect(invitation.inviteMember).toMatchObject({
      email: invitee.user.email,
      role: 'ADMIN',
      acceptedAt: null,
      organization: { id: organization.id },
    });
    const expiresInDays = (new Date(invitation.inviteMember.expiresAt).getTime() - Date.now()) / 86400000;
    expect(expiresInDays).toBeGreaterThan(6.9);

    const token = await invitationTokenFor(api, invitee.user.email);
    const accepted = await ok(api.gql(ACCEPT, { token }, { token: invitee.accessToken }));
    expect(accepted.acceptInvitation).toMatchObject({
      role: 'ADMIN',
      user: { id: invitee.user.id },
      organization: { id: organization.id },
    });

    const again = await api.gql(ACCEPT, { token }, { token: invitee.accessToken });
    expect(codeOf(again)).toBe('CONFLICT');
    const rows = (await api.app.dataSource.query('SELECT token_hash FROM invitations WHERE email = $1', [
      invitee.user.email,
    ])) as { token_hash: string }[];
    expect(rows[0].token_hash).not.toContain(token);
  });

  it('defaults the role to MEMBER', async () => {
    const organization = await createOrganization(api, owner);
    const data = await ok(
      api.gql(
        INVITE,
        { input: { organizationId: organization.id, email: uniqueEmail() } },
        { token: owner.accessToken },
      ),
    );
    expect(data.inviteMember.role).toBe('MEMBER');
  });

  it('refuses a viewer whose email is not the invited one with FORBIDDEN', async () => {
    const organization = await createOrganization(api, owner);
    const email = uniqueEmail('invited');
    await ok(api.gql(INVITE, { input: { organizationId: organization.id, email } }, { token: owner.accessToken }));
    const someoneElse = await signUp(api);
    expect(
      codeOf(
        await api.gql(ACCEPT, { token: await invitationTokenFor(api, email) }, { token: someoneElse.accessToken }),
      ),
    ).toBe('FORBIDDEN');
  });

  it('refuses an expired invitation with BAD_USER_INPUT', async () => {
    const organization = await createOrganization(api, owner);
    const invitee = await signUp(api);
    await ok(
      api.gql(
        INVITE,
        { input: { organizationId: organization.id, email: invitee.user.email } },
        { token: owner.accessToken },
      ),
    );
    const token = await invitationTokenFor(api, invitee.user.email);
    await api.app.dataSource.query(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = $1`, [
      invitee.user.email,
    ]);
    const response = await api.gql(ACCEPT, { token }, { token: invitee.accessToken });
    expect(response.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/expired/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('replaces a pending invitation when the same email is invited again', async () => {
    const organization = await createOrganization(api, owner);
    const invitee = await signUp(api);
    const invite = () =>
      ok(
        api.gql(
          INVITE,
          { input: { organizationId: organization.id, email: invitee.user.email } },
          { token: owner.accessToken },
        ),
      );
    await invite();
    const oldToken = await invitationTokenFor(api, invitee.user.email);
    await invite();
    const newToken = await invitationTokenFor(api, invitee.user.email, { not: oldToken });

    const old = await api.gql(ACCEPT, { token: oldToken }, { token: invitee.accessToken });
    expect(old.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/replaced/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    await ok(api.gql(ACCEPT, { token: newToken }, { token: invitee.accessToken }));
  });

  it('answers an unknown token with NOT_FOUND', async () => {
    for (const token of ['nope', 'A'.repeat(43)]) {
      expect(codeOf(await api.gql(ACCEPT, { token }, { token: owner.accessToken }))).toBe('NOT_FOUND');
    }
  });

  it('refuses to invite an existing member with CONFLICT', async () => {
    const organization = await createOrganization(api, owner);
    const member = await addMember(api, owner, organization.id, 'MEMBER');
    const response = await api.gql(
      INVITE,
      { input: { organizationId: organization.id, email: member.user.email } },
      { token: owner.accessToken },
    );
    expect(codeOf(response)).toBe('CONFLICT');
  });

  it('lets a MEMBER invite nobody and an ADMIN invite no OWNER (FORBIDDEN)', async () => {
    const organization = await createOrganization(api, owner);
    const member = await addMember(api, owner, organization.id, 'MEMBER');
    const admin = await addMember(api, owner, organization.id, 'ADMIN');
    const invite = (session: Session, role: string) =>
      api.gql(
        INVITE,
        { input: { organizationId: organization.id, email: uniqueEmail(), role } },
        { token: session.accessToken },
      );
    expect(codeOf(await invite(member, 'MEMBER'))).toBe('FORBIDDEN');
    expect(codeOf(await invite(admin, 'OWNER'))).toBe('FORBIDDEN');
    expect(codeOf(await invite(admin, 'ADMIN'))).toBeUndefined();
    expect(codeOf(await invite(owner, 'OWNER'))).toBeUndefined();
  });

  it('turns two racing accepts of one token into one membership and one CONFLICT', async () => {
    const organization = await createOrganization(api, owner);
    const invitee = await signUp(api);
    await ok(
      api.gql(
        INVITE,
        { input: { organizationId: organization.id, email: invitee.user.email } },
        { token: owner.accessToken },
      ),
    );
    const token = await invitationTokenFor(api, invitee.user.email);
    const results = await Promise.all([1, 2].map(() => api.gql(ACCEPT, { token }, { token: invitee.accessToken })));
    expect(results.map(codeOf).sort()).toEqual(['CONFLICT', undefined]);
    const rows = (await api.app.dataSource.query('SELECT count(*)::int AS n FROM memberships WHERE user_id = $1', [
      invitee.user.id,
    ])) as { n: number }[];
    expect(rows[0].n).toBe(1);
  });
});

describe('roles', () => {
  async function team() {
    const organization = await createOrganization(api, owner);
    const admin = await addMember(api, owner, organization.id, 'ADMIN');
    const member = await addMember(api, owner, organization.id, 'MEMBER');
    const ownerMembershipId = await membershipIdOf(api, owner, organization.id, owner.user.id);
    return { organization, admin, member, ownerMembershipId };
  }
  const change = (session: Session, membershipId: string, role: string) =>
    api.gql(CHANGE_ROLE, { input: { membershipId, role } }, { token: session.accessToken });
  const remove = (session: Session, membershipId: string) =>
    api.gql(REMOVE, { id: membershipId }, { token: session.accessToken });

  it('lets an ADMIN promote a MEMBER to ADMIN, and the new role shows at once', async () => {
    const { organization, admin, member } = await team();
    expect((await ok(change(admin, member.membershipId, 'ADMIN'))).changeMemberRole.role).toBe('ADMIN');
    const data = await ok(api.gql(ORGANIZATION, { id: organization.id }, { token: member.accessToken }));
    expect(data.organization.viewerRole).toBe('ADMIN');
  });

  it('lets only an OWNER grant OWNER or change an OWNER', async () => {
    const { admin, member, ownerMembershipId } = await team();
    expect(codeOf(await change(admin, member.membershipId, 'OWNER'))).toBe('FORBIDDEN');
    expect(codeOf(await change(admin, ownerMembershipId, 'MEMBER'))).toBe('FORBIDDEN');
    expect((await ok(change(owner, member.membershipId, 'OWNER'))).changeMemberRole.role).toBe('OWNER');
  });

  it('lets a MEMBER change no role (FORBIDDEN)', async () => {
    const { admin, member } = await team();
    expect(codeOf(await change(member, admin.membershipId, 'MEMBER'))).toBe('FORBIDDEN');
  });

  it('keeps the last OWNER an OWNER (CONFLICT), but lets one of two step down', async () => {
    const { member, ownerMembershipId } = await team();
    expect(codeOf(await change(owner, ownerMembershipId, 'ADMIN'))).toBe('CONFLICT');
    await ok(change(owner, member.membershipId, 'OWNER'));
    expect((await ok(change(owner, ownerMembershipId, 'ADMIN'))).changeMemberRole.role).toBe('ADMIN');
  });

  it('never leaves an organization without an OWNER when two owners step down at once', async () => {
    const { organization, member, ownerMembershipId } = await team();
    await ok(change(owner, member.membershipId, 'OWNER'));
    await Promise.all([change(owner, ownerMembershipId, 'MEMBER'), change(member, member.membershipId, 'MEMBER')]);
    const rows = (await api.app.dataSource.query(
      `SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND role = 'OWNER'`,
      [organization.id],
    )) as { n: number }[];
    expect(rows[0].n).toBe(1);
  });

  it('lets an ADMIN remove a MEMBER but not an OWNER', async () => {
    const { admin, member, ownerMembershipId } = await team();
    expect(codeOf(await remove(admin, ownerMembershipId))).toBe('FORBIDDEN');
    expect((await ok(remove(admin, member.membershipId))).removeMember).toBe(true);
    expect(codeOf(await api.gql('{ me { id } }', {}, { token: member.accessToken }))).toBeUndefined();
  });

  it('lets anyone leave, a MEMBER remove nobody else, and the last OWNER not leave', async () => {
    const { organization, admin, member, ownerMembershipId } = await team();
    expect(codeOf(await remove(member, admin.membershipId))).toBe('FORBIDDEN');
    expect((await ok(remove(member, member.membershipId))).removeMember).toBe(true);
    expect(codeOf(await api.gql(ORGANIZATION, { id: organization.id }, { token: member.accessToken }))).toBe(
      'NOT_FOUND',
    );
    expect(codeOf(await remove(owner, ownerMembershipId))).toBe('CONFLICT');
  });

  it('answers a membership of an organization the viewer is not in with NOT_FOUND', async () => {
    const { member } = await team();
    const stranger = await signUp(api);
    expect(codeOf(await change(stranger, member.membershipId, 'ADMIN'))).toBe('NOT_FOUND');
    expect(codeOf(await remove(stranger, member.membershipId))).toBe('NOT_FOUND');
  });
});
