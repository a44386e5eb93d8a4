// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { firstDifference, parseServers, scenarios } from '../../scripts/bench-scenarios';

const fixture = { taskId: 't-1', organizationId: 'o-1' };
const [q1, q2, q3] = scenarios(fixture);
const ada = { id: 'u-1', name: 'Ada' };

describe('npm run bench: the same answer from every server', () => {
  it('brings the three task answers to one shape', () => {
    const groundwork = q1.normalise('groundwork', { task: { id: 't-1', title: 'Fix', status: 'TODO', assignee: ada } });
    const reference = q1.normalise('reference', { id: 't-1', title: 'Fix', status: 'TODO', assignee: ada });
    const postgraphile = q1.normalise('postgraphile', {
      taskByRowId: { rowId: 't-1', title: 'Fix', status: 'TODO', userByAssigneeId: { rowId: 'u-1', name: 'Ada' } },
    });
    expect(groundwork).toEqual({ id: 't-1', title: 'Fix', status: 'TODO', assignee: ada });
    expect(firstDifference(groundwork, reference)).toBeUndefined();
    expect(firstDifference(groundwork, postgraphile)).toBeUndefined();
  });

  it('brings the three nested lists to one shape, unassigned tasks included', () => {
    const groundwork = q2.normalise('groundwork', {
      projects: {
        edges: [
          {
            node: {
              id: 'p-1',
              name: 'P',
              tasks: {
                edges: [
                  { node: { id: 't-1', title: 'Fix', assignee: ada } },
                  { node: { id: 't-2', title: 'Ship', assignee: null } },
                ],
              },
            },
          },
        ],
      },
    });
    const reference = q2.normalise('reference', [
      {
        id: 'p-1',
        name: 'P',
        tasks: [
          { id: 't-1', title: 'Fix', assignee: ada },
          { id: 't-2', title: 'Ship', assignee: null },
        ],
      },
    ]);
    const postgraphile = q2.normalise('postgraphile', {
      allProjects: {
        nodes: [
          {
            rowId: 'p-1',
            name: 'P',
            tasksByProjectId: {
              nodes: [
                { rowId: 't-1', title: 'Fix', userByAssigneeId: { rowId: 'u-1', name: 'Ada' } },
                { rowId: 't-2', title: 'Ship', userByAssigneeId: null },
              ],
            },
          },
        ],
      },
    });
    expect(firstDifference(groundwork, reference)).toBeUndefined();
    expect(firstDifference(groundwork, postgraphile)).toBeUndefined();
  });

  it('names where two answers differ: another assignee, another order, a missing task', () => {
    const base = [
      {
        id: 'p-1',
        name: 'P',
        tasks: [
          { id: 't-1', title: 'Fix', assignee: ada },
          { id: 't-2', title: 'Ship', assignee: null },
        ],
      },
    ];
    const otherAssignee = [
      { ...base[0], tasks: [{ ...base[0].tasks[0], assignee: { id: 'u-2', name: 'Bob' } }, base[0].tasks[1]] },
    ];
    const reordered = [{ ...base[0], tasks: [base[0].tasks[1], base[0].tasks[0]] }];
    const shorter = [{ ...base[0], tasks: [base[0].tasks[0]] }];
    expect(firstDifference(base, otherAssignee)).toBe('$[0].tasks[0].assignee.id: "u-1" vs "u-2"');
    expect(firstDifference(base, reordered)).toBe('$[0].tasks[0].id: "t-1" vs "t-2"');
    expect(firstDifference(base, shorter)).toMatch(/^\$\[0\]\.tasks\[1\]: \{.*\} vs undefined$/);
  });

  it('refuses an answer without the data asked for', () => {
    expect(() => q1.normalise('groundwork', { task: null })).toThrow('no task in the answer');
    expect(() => q1.normalise('postgraphile', { taskByRowId: null })).toThrow('no task in the answer');
    expect(() => q3.normalise('postgraphile', { addComment: { result: null } })).toThrow('no comment in the answer');
  });

  it('keeps of a new comment its id (read back from the database) and body', () => {
    expect(q3.writes).toBe(true);
    expect(q3.normalise('groundwork', { addComment: { id: 'c-1', body: 'hi', createdAt: 'x' } })).toEqual({
      id: 'c-1',
      body: 'hi',
    });
    expect(
      q3.normalise('postgraphile', { addComment: { result: { rowId: 'c-2', body: 'hi', createdAt: 'y' } } }),
    ).toEqual({ id: 'c-2', body: 'hi' });
    expect(q3.normalise('reference', { id: 'c-3', body: 'hi', createdAt: 'z' })).toEqual({ id: 'c-3', body: 'hi' });
  });

  it('asks every server for the same task, organization and comment', () => {
    for (const scenario of [q1, q2, q3]) {
      for (const request of Object.values(scenario.requests)) expect(request.body).toMatch(/t-1|o-1/);
    }
  });

  it('--servers picks servers in the bench order and refuses unknown names', () => {
    expect(parseServers('postgraphile,groundwork')).toEqual(['groundwork', 'postgraphile']);
    expect(parseServers('reference')).toEqual(['reference']);
    expect(() => parseServers('groundwork,hasura')).toThrow(
      '--servers takes a comma-separated list of groundwork, reference, postgraphile; got "groundwork,hasura"',
    );
    expect(() => parseServers('')).toThrow('--servers');
  });
});
