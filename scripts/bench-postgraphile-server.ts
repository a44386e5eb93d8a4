import { createSecretKey, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { serveForBench } from './bench-serve';

/**
 * PostGraphile v5 as `npm run bench` runs it: library mode on grafserv's
 * node:http adaptor, the Amber preset over `public` and `postgraphile_api`
 * (the addComment function), one pg pool of POOL_MAX. The bearer token is
 * groundwork's own access token (HS256, same secret, issuer, audience and
 * type checked); its subject becomes `jwt.claims.sub` and every request runs
 * as MEMBER_ROLE (groundwork_bench_member), so the row-level security policies
 * `scripts/bench-postgraphile.ts` installs decide what it sees.
 * PostGraphile is not a dependency of this project: POSTGRAPHILE_MODULES
 * names the folder the bench installed it into, and this runs on Node 22.
 */
interface PostGraphileInstance {
  createServ(grafserv: unknown): { addTo(server: Server): Promise<void> };
  release(): Promise<void>;
}
interface JwtModule {
  verify(
    token: string,
    key: KeyObject,
    options: Record<string, unknown>,
  ): { header: { typ?: string }; payload: { sub?: string } | string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BENCH_ROLE = process.env.MEMBER_ROLE ?? 'groundwork_bench_member';

const load = createRequire(join(process.env.POSTGRAPHILE_MODULES ?? '.', 'package.json'));
const { postgraphile } = load('postgraphile') as { postgraphile(preset: object): PostGraphileInstance };
const { grafserv } = load('postgraphile/grafserv/node') as { grafserv: unknown };
const { PostGraphileAmberPreset } = load('postgraphile/presets/amber') as { PostGraphileAmberPreset: object };
const { makePgService } = load('postgraphile/adaptors/pg') as { makePgService(options: object): object };
const jwt = load('jsonwebtoken') as JwtModule;

// Built once: given the secret as a string, jsonwebtoken would build a key object (trying a public key first) per request.
const key = createSecretKey(Buffer.from(process.env.JWT_SECRET ?? ''));
const verifyOptions = {
  algorithms: ['HS256'],
  issuer: process.env.JWT_ISSUER ?? 'groundwork',
  audience: process.env.JWT_AUDIENCE ?? 'groundwork-api',
  complete: true,
};

/** The user id of a valid groundwork access token, or '' (then the policies show nothing and addComment finds no task). */
function viewerId(request: IncomingMessage | undefined): string {
  const [scheme, token] = (request?.headers.authorization ?? '').split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !token) return '';
  try {
    const { header, payload } = jwt.verify(token, key, verifyOptions);
    const sub = typeof payload === 'string' ? undefined : payload.sub;
    return header.typ === 'at+jwt' && typeof sub === 'string' && UUID.test(sub) ? sub : '';
  } catch {
    return '';
  }
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ['public', 'postgraphile_api'],
      poolConfig: { max: Number(process.env.POOL_MAX ?? 10) },
      // The schema shows what the member role may do (grants), not what the superuser could.
      pgSettingsForIntrospection: { role: BENCH_ROLE },
    }),
  ],
  grafast: {
    context(requestContext: { node?: { req?: IncomingMessage } }) {
      return { pgSettings: { role: BENCH_ROLE, 'jwt.claims.sub': viewerId(requestContext.node?.req) } };
    },
  },
  grafserv: { graphiql: false, watch: false, maxRequestLength: 1_048_576 },
};

async function main(): Promise<void> {
  const instance = postgraphile(preset);
  const server = createServer();
  await instance.createServ(grafserv).addTo(server);
  serveForBench(server, 'postgraphile', () => instance.release());
}

main().catch((error: unknown) => {
  process.stderr.write(`postgraphile failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
