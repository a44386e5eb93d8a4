import { isolationCases } from '../../support/isolation';
import { addMember, invitationTokenFor, INVITE, ok } from '../../support/organizations';
import { uniqueEmail } from '../../support/test-app';

/** The organizations module's rows of the tenant-isolation suite: A's organization, a member of it, a pending invitation. */
export const isolation = isolationCases({
  async seed({ api, owner, organizationId }) {
    const member = await addMember(api, owner, organizationId, 'MEMBER');
    const invitedEmail = uniqueEmail('pending');
    await ok(api.gql(INVITE, { input: { organizationId, email: invitedEmail } }, { token: owner.accessToken }));
    return { memberMembershipId: member.membershipId, invitationToken: await invitationTokenFor(api, invitedEmail) };
  },
  cases: [
    {
      operation: 'organization',
      document: 'query($id: ID!) { organization(id: $id) { id name } }',
      variables: (a) => ({ id: a.organizationId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'updateOrganizationSettings',
      document:
        'mutation($input: UpdateOrganizationSettingsInput!) { updateOrganizationSettings(input: $input) { id } }',
      variables: (a) => ({ input: { organizationId: a.organizationId, requireVerifiedEmail: true } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'inviteMember',
      document: 'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id } }',
      variables: (a) => ({ input: { organizationId: a.organizationId, email: 'intruder@example.com', role: 'OWNER' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'changeMemberRole',
      document: 'mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { id } }',
      variables: (a) => ({ input: { membershipId: a.memberMembershipId, role: 'OWNER' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'removeMember',
      document: 'mutation($id: ID!) { removeMember(membershipId: $id) }',
      variables: (a) => ({ id: a.memberMembershipId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'acceptInvitation',
      document: 'mutation($token: String!) { acceptInvitation(token: $token) { id } }',
      variables: (a) => ({ token: a.invitationToken }),
      outsider: 'FORBIDDEN',
    },
  ],
});
