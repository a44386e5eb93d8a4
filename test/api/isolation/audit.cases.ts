import { isolationCases } from '../../support/isolation';

/** The audit module's row of the tenant-isolation suite: A's audit log. */
export const isolation = isolationCases({
  cases: [
    {
      operation: 'auditEvents',
      document: 'query($id: ID!) { auditEvents(organizationId: $id) { totalCount } }',
      variables: (a) => ({ id: a.organizationId }),
      outsider: 'NOT_FOUND',
    },
  ],
});
