import { isolationCases } from '../../support/isolation';

/** The identity module reaches nothing organization-owned; its one operation taking an ID names a session of the viewer's own. */
export const isolation = isolationCases({
  cases: [],
  notOrganizationScoped: {
    revokeSession: "a session of the viewer's own (NOT_FOUND for anyone else's; test/api/accounts.test.ts)",
  },
});
