import { Identity1764028800000 } from './1764028800000-identity';
import { Organizations1795567134390 } from './1795567134390-organizations';
import { Projects1795567726657 } from './1795567726657-projects';
import { Events1795577769000 } from './1795577769000-events';
import { Audit1795579300000 } from './1795579300000-audit';
import { Notifications1795579300001 } from './1795579300001-notifications';
import { Webhooks1795579300002 } from './1795579300002-webhooks';

/** Every migration, oldest first. A new one is added here (a test fails when a file in this folder is missing from the list). */
export const migrations = [Identity1764028800000, Organizations1795567134390, Projects1795567726657, Events1795577769000, Audit1795579300000, Notifications1795579300001, Webhooks1795579300002];
