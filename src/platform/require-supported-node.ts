import { unsupportedNode } from './node-version';

// main.ts imports this first, so an older Node stops here with one line, before a dependency that needs a newer one loads.
const problem = unsupportedNode();
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
