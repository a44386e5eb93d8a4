import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../../config/config';
import type { Logger } from '../logging/logger';

/** Where the offline explorer is served: GraphiQL from its npm packages, nothing from a CDN (Apollo Sandbox, on GET /graphql, needs one). */
export const GRAPHIQL_PATH = '/graphiql';

/** Each asset: the package it ships in (development dependencies, pinned), its file there, its content type. */
const ASSETS: Record<string, { from: string; file: string; type: string }> = {
  'react.js': { from: 'react', file: 'umd/react.production.min.js', type: 'text/javascript; charset=utf-8' },
  'react-dom.js': {
    from: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  'graphiql.js': { from: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.css': { from: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
};

/** Nothing but this origin: the page works with the network cut off, and could not reach a CDN if it tried. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_QUERY = `# groundwork's GraphiQL, served offline by the API itself (development only).
# Sign in with the logIn mutation, then put {"Authorization": "Bearer <accessToken>"} under Headers below.
# Subscriptions (subscription { notificationAdded { message } }) run here too, over WebSocket, with the same header.
{
  me {
    id
    email
  }
}
`;

// Subscriptions go over graphql-ws on the same path (ws:, or wss: behind TLS); the headers typed in GraphiQL's Headers
// pane become the connection_init payload, so {"Authorization": "Bearer <token>"} signs the socket in too.
const START = `const url = new URL('/graphql', location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true, defaultQuery: ${JSON.stringify(DEFAULT_QUERY)} }),
);
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>groundwork: GraphiQL</title>
    <link rel="stylesheet" href="${GRAPHIQL_PATH}/graphiql.css">
    <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="${GRAPHIQL_PATH}/react.js"></script>
    <script src="${GRAPHIQL_PATH}/react-dom.js"></script>
    <script src="${GRAPHIQL_PATH}/graphiql.js"></script>
    <script src="${GRAPHIQL_PATH}/start.js"></script>
  </body>
</html>
`;

/** Served where the Sandbox is (GRAPHQL_SANDBOX, on outside production), never in production, whose install has no development dependencies. */
export function graphiqlEnabled(config: Config): boolean {
  return config.sandboxEnabled && !config.isProduction;
}

/**
 * GET /graphiql: GraphiQL 4 (its self-contained UMD build, with React 18's)
 * read from node_modules. Returns false, having said why, when the packages
 * are not installed (`npm ci --omit=dev`).
 */
export function serveGraphiql(fastify: FastifyInstance, logger: Logger): boolean {
  const files = new Map<string, { path: string; type: string }>();
  try {
    for (const [name, asset] of Object.entries(ASSETS)) {
      files.set(name, {
        path: join(dirname(require.resolve(`${asset.from}/package.json`)), asset.file),
        type: asset.type,
      });
    }
  } catch {
    logger.info(
      `GET ${GRAPHIQL_PATH} is not served: graphiql, react and react-dom (development dependencies) are not installed`,
    );
    return false;
  }
  const page = (type: string, body: string) => (_request: unknown, reply: FastifyReply) =>
    reply.type(type).header('content-security-policy', CONTENT_SECURITY_POLICY).send(body);
  fastify.get(GRAPHIQL_PATH, page('text/html; charset=utf-8', PAGE));
  fastify.get(`${GRAPHIQL_PATH}/start.js`, page('text/javascript; charset=utf-8', START));
  fastify.get<{ Params: { asset: string } }>(`${GRAPHIQL_PATH}/:asset`, (request, reply) => {
    const file = files.get(request.params.asset);
    if (!file) return reply.callNotFound();
    return reply.type(file.type).header('cache-control', 'no-cache').send(createReadStream(file.path));
  });
  return true;
}
