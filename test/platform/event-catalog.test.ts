// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import 'reflect-metadata';
import { eventTypes, modules } from '../../src/modules';
import { EventTypes } from '../../src/platform/events/catalog';
import { EventPublisher } from '../../src/platform/events/outbox';
import { Transaction } from '../../src/platform/database/unit-of-work';
import { EventTypeEnum, eventTypeName } from '../../src/platform/graphql/event-types';
import type { EntityManager } from 'typeorm';

const sample = (type: string, data: unknown) => ({
  id: '00000000-0000-4000-8000-000000000001',
  type,
  occurredAt: new Date(0),
  organizationId: null,
  actorId: null,
  requestId: null,
  subject: { type: 'test', id: '00000000-0000-4000-8000-000000000002' },
  data,
});

describe('the event catalog', () => {
  it('has, for every event a module publishes, a description and a decision for audit and webhooks', () => {
    const undecided = eventTypes.entries.filter(
      (entry) =>
        !entry.description.trim() ||
        typeof entry.webhook !== 'boolean' ||
        !(entry.audit === null || typeof entry.audit === 'function'),
    );

    expect(eventTypes.entries.length).toBeGreaterThanOrEqual(13);
    expect(undecided.map((entry) => entry.type)).toEqual([]);
    expect(eventTypes.entries.map((entry) => entry.module)).toEqual(
      expect.arrayContaining(['organizations', 'projects']),
    );
  });

  it('is the union of the modules’ catalogs, and the GraphQL EventType enum has a value for each type', () => {
    const declared = modules.flatMap((module) => Object.keys(module.events ?? {}));

    expect(eventTypes.entries.map((entry) => entry.type)).toEqual(declared);
    expect(Object.values(EventTypeEnum).sort()).toEqual([...declared].sort());
    expect(eventTypeName('member.role_changed')).toBe('MEMBER_ROLE_CHANGED');
  });

  it('renders an audit line through the declaring module, and the bare type for a type no module declares', () => {
    expect(
      eventTypes.summarize(
        sample('task.assigned', { title: 'Ship', projectId: 'p', assigneeId: 'a', previousAssigneeId: null }),
      ),
    ).toBe('assigned the task "Ship"');
    expect(eventTypes.summarize(sample('legacy.thing', {}))).toBe('legacy.thing');
  });

  it('refuses a type declared by two modules', () => {
    const declaration = { description: 'x', webhook: true, audit: null };

    expect(
      () =>
        new EventTypes([
          { name: 'a', events: { 'x.done': declaration } },
          { name: 'b', events: { 'x.done': declaration } },
        ]),
    ).toThrow('Event types declared by two modules: x.done');
  });

  it("refuses to publish a type missing from the publishing module's catalog, before any SQL", async () => {
    const publisher = new EventPublisher().typed({ 'x.done': { description: 'x', webhook: false, audit: null } });
    const noDatabase = new Transaction({} as EntityManager);
    const draft = { type: 'x.undeclared', organizationId: null, subject: { type: 'x', id: 'y' }, data: {} };

    await expect(
      publisher.publish(noDatabase, { requestId: 'r', viewer: { kind: 'anonymous' } }, draft as never),
    ).rejects.toThrow("x.undeclared is not in the publishing module's event catalog");
  });
});
