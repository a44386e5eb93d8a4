import { isolationCases } from '../../support/isolation';

/** The notifications module reaches nothing organization-owned by id. */
export const isolation = isolationCases({
  cases: [],
  notOrganizationScoped: {
    markNotificationsRead:
      "the viewer's own notifications only; others' ids are ignored (test/api/notifications.test.ts)",
  },
});
