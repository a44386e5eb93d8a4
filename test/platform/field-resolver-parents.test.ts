// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import 'reflect-metadata';
import { getMetadataStorage } from 'type-graphql';
import { resolverClasses } from '../../src/modules';

/**
 * type-graphql copies a field resolver's parent into a new instance of its
 * class whenever the `@Root()` parameter's reflected type is a class; on a
 * list that is one object per row per resolved field (200 on a page of 20
 * projects with 10 tasks). The hot read path types its parents by aliases
 * (`TaskParent`, `Readonly<User>`), so the row is passed as it is.
 */
const HOT_RESOLVERS = ['ProjectResolver', 'TaskResolver', 'CommentResolver', 'UserResolver'];

describe('field resolvers on the hot read path', () => {
  it('receive their parent row itself: no @Root() parameter is typed by a class', () => {
    expect(resolverClasses.map((resolver) => resolver.name)).toEqual(expect.arrayContaining(HOT_RESOLVERS));
    const roots = getMetadataStorage().params.filter(
      (param) => param.kind === 'root' && HOT_RESOLVERS.includes(param.target.name),
    );
    expect(roots.length).toBeGreaterThanOrEqual(9);
    const copied = roots
      .filter((param) => 'getType' in param && param.getType !== undefined)
      .map((param) => `${param.target.name}.${param.methodName}`);
    expect(copied).toEqual([]);
  });
});
