import { AfterResponse } from '../../src/platform/graphql/context';

describe('AfterResponse', () => {
  it('asks for the answer to go only when a task waits, once, and runs every task once it has', () => {
    const asked: (() => void)[] = [];
    const after = new AfterResponse((run) => void asked.push(run));
    expect(asked).toHaveLength(0);
    const ran: string[] = [];
    after.add(() => ran.push('a'));
    after.add(() => ran.push('b'));
    expect(asked).toHaveLength(1);
    expect(ran).toEqual([]);
    asked[0]();
    asked[0]();
    expect(ran).toEqual(['a', 'b']);
    after.add(() => ran.push('c'));
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(asked).toHaveLength(1);
  });

  it('runs a task at once when the answer had already gone', () => {
    const ran: string[] = [];
    const after = new AfterResponse((run) => run());
    after.add(() => ran.push('a'));
    after.add(() => ran.push('b'));
    expect(ran).toEqual(['a', 'b']);
  });
});
