/**
 * The module boundaries of ARCHITECTURE.md, checked by `npm run arch:check`
 * and by test/architecture.test.ts (which also proves each rule catches a breach).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-module',
      comment: 'platform/ is the shared kernel: it never imports from modules/.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'module-through-index-only',
      comment: "A module imports another module only through that module's index.ts.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'index-exports-no-entity',
      comment:
        'A module never exposes its entities: other modules refer to its records by id and read them through its service.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/index\\.ts$' },
      to: { path: '\\.entity\\.ts$' },
    },
    {
      name: 'no-foreign-entity',
      comment: "A module never imports another module's entities.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '\\.entity\\.ts$', pathNot: ['^src/modules/$1/', '^src/platform/'] },
    },
    {
      name: 'typeorm-only-in-repositories',
      comment:
        'Repositories own every statement: in a module only repositories, entities and migrations import typeorm; services ask the unit of work for repositories.',
      severity: 'error',
      from: { path: '^src/modules/', pathNot: ['\\.repository\\.ts$', '\\.entit(y|ies)\\.ts$', '/migrations/'] },
      to: { path: '(^|/)node_modules/typeorm/' },
    },
    {
      name: 'service-imports-no-transport',
      comment: 'Services know nothing of the transport: no @apollo/server, no fastify.',
      severity: 'error',
      from: { path: '\\.service\\.ts$' },
      to: { path: '(^|/)node_modules/(@apollo/server|fastify|@fastify/|@as-integrations/)' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    moduleSystems: ['cjs', 'es6'],
    // Packages' exports maps, as Node resolves them for our CommonJS build: graphql-ws/use/ws exists only there.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
