import { loadScriptConfig, scriptDataSource, scriptLogger } from './scripts/cli-support';

/**
 * The DataSource the TypeORM CLI uses (`npm run db:migration:generate`), built by
 * the app's own factory from the same environment. In embedded mode it opens
 * ./.data/pglite, so stop `npm start` first: PGlite allows one process per directory.
 */
const config = loadScriptConfig();
export const dataSource = scriptDataSource(config, scriptLogger(config));
