import { satisfies } from 'semver';

/** The Node versions groundwork runs on: package.json's `engines.node` (test/ci/node-versions.test.ts keeps the two equal). */
export const SUPPORTED_NODE = '^22.15.0 || >=24.11.0';

/** Why this Node cannot run groundwork, or undefined when it can. */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  if (satisfies(version, SUPPORTED_NODE)) return undefined;
  return (
    `groundwork needs Node ${SUPPORTED_NODE} (package.json "engines"), and this is Node ${version}. ` +
    'Install Node 22 (`nvm install` reads .nvmrc) or 24, then start again.'
  );
}
