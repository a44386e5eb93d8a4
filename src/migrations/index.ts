import { Identity1764028800000 } from './1764028800000-identity';

/** Every migration, oldest first. A new one is added here (a test fails when a file in this folder is missing from the list). */
export const migrations = [Identity1764028800000];
