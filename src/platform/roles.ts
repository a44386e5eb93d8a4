import { ConfigError, type Config } from '../config/config';

/**
 * What this instance runs, from ROLE and WORKER_MODULES (README: "Roles").
 * The API side serves GraphQL and writes events (the outbox, the APQ cache,
 * rate limits, and per-instance feeds of its own clients); the worker side
 * runs the modules' consumers and workers, and the event bus's loops (the
 * relay, the redelivery sweep, housekeeping).
 */
export interface Roles {
  /** GraphQL on /graphql (and GraphiQL where enabled). */
  servesApi: boolean;
  /** The modules whose consumers and workers run here; empty for ROLE=api. */
  consumingModules: ReadonlySet<string>;
}

/**
 * Reads the roles; a WORKER_MODULES name that no registered module has is a
 * ConfigError (the start stops with it, as with any bad variable).
 */
export function rolesOf(config: Config, moduleNames: readonly string[]): Roles {
  const servesApi = config.ROLE !== 'worker';
  if (config.ROLE === 'api') return { servesApi, consumingModules: new Set() };
  const wanted = config.workerModules;
  if (!wanted) return { servesApi, consumingModules: new Set(moduleNames) };
  const unknown = wanted.filter((name) => !moduleNames.includes(name));
  if (unknown.length > 0)
    throw new ConfigError([
      `WORKER_MODULES names ${unknown.map((name) => `"${name}"`).join(', ')}, not a registered module; the modules are: ${moduleNames.join(', ')}`,
    ]);
  return { servesApi, consumingModules: new Set(wanted) };
}
