import type { CaptureMailer } from '../../src/platform/mail/mailer';
import { signUp, type SignedUp, type TestApp } from './test-app';
import { waitFor } from './wait';

export type Session = SignedUp & { password: string };

export const CREATE_ORGANIZATION = `
  mutation CreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { id name slug viewerRole createdAt }
  }`;
export const INVITE = `
  mutation Invite($input: InviteMemberInput!) {
    inviteMember(input: $input) { id email role expiresAt acceptedAt organization { id } }
  }`;
export const ACCEPT = `mutation Accept($token: String!) { acceptInvitation(token: $token) { id role user { id } organization { id } } }`;
export const CHANGE_ROLE = `mutation Change($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { id role } }`;
export const REMOVE = `mutation Remove($id: ID!) { removeMember(membershipId: $id) }`;

/** Fails the test on any GraphQL error; returns `data`. */
export async function ok<T = Record<string, any>>(
  response: Promise<{ body: { data?: any; errors?: unknown[] } }>,
): Promise<T> {
  const { body } = await response;
  if (body.errors) throw new Error(`unexpected errors: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

export async function createOrganization(api: TestApp, owner: Session, name = 'Acme', slug?: string) {
  const data = await ok(
    api.gql(CREATE_ORGANIZATION, { input: { name, ...(slug ? { slug } : {}) } }, { token: owner.accessToken }),
  );
  return data.createOrganization as { id: string; name: string; slug: string; viewerRole: string };
}

/**
 * The token of the last invitation mailed to `email`, read from the capture
 * transport; the mail goes out from an event handler, so this waits for it
 * (and, with `not`, for a newer one than that token).
 */
export function invitationTokenFor(api: TestApp, email: string, options: { not?: string } = {}): Promise<string> {
  return waitFor(() => {
    const sent = (api.app.mailer as CaptureMailer).sent.filter((message) => message.to === email);
    // Only invitation mail: signUp's verification mail goes to the same address, in no set order.
    const invitations = sent.filter((message) => message.text.includes('/invitations/accept?token='));
    const token = /invitations\/accept\?token=([A-Za-z0-9_-]{43})/.exec(invitations.at(-1)?.text ?? '')?.[1];
    return token !== options.not ? token : undefined;
  }, `an invitation mailed to ${email}`);
}

/** A new user who joined the organization with `role`, through a real invitation; returns their session and membership id. */
export async function addMember(
  api: TestApp,
  inviter: Session,
  organizationId: string,
  role: 'OWNER' | 'ADMIN' | 'MEMBER',
) {
  const member = await signUp(api);
  await ok(
    api.gql(INVITE, { input: { organizationId, email: member.user.email, role } }, { token: inviter.accessToken }),
  );
  const data = await ok(
    api.gql(ACCEPT, { token: await invitationTokenFor(api, member.user.email) }, { token: member.accessToken }),
  );
  return { ...member, membershipId: data.acceptInvitation.id as string };
}

/** The membership id of `userId` in the organization, read as its owner would. */
export async function membershipIdOf(
  api: TestApp,
  viewer: Session,
  organizationId: string,
  userId: string,
): Promise<string> {
  const data = await ok(
    api.gql(
      `query($id: ID!) { organization(id: $id) { members(first: 100) { edges { node { id user { id } } } } } }`,
      { id: organizationId },
      {
        token: viewer.accessToken,
      },
    ),
  );
  const edge = (data.organization.members.edges as { node: { id: string; user: { id: string } } }[]).find(
    (e) => e.node.user.id === userId,
  );
  if (!edge) throw new Error('not a member');
  return edge.node.id;
}
