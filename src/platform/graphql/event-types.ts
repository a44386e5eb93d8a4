import { Field, ObjectType, registerEnumType } from 'type-graphql';
import type { EventTypes } from '../events/catalog';

/** `member.role_changed` -> `MEMBER_ROLE_CHANGED`. */
export function eventTypeName(type: string): string {
  return type.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/**
 * The GraphQL enum of every event type the modules declare. type-graphql
 * reads an enum when the schema is built, so it is filled from the modules'
 * catalogs (declareEventTypes) before that, by the module registry.
 */
export const EventTypeEnum: Record<string, string> = {};
const valuesConfig: Record<string, { description: string }> = {};
registerEnumType(EventTypeEnum, {
  name: 'EventType',
  description: 'A domain event type; its value is the dotted name (`task.assigned`).',
  valuesConfig,
});

export function declareEventTypes(eventTypes: EventTypes): void {
  for (const entry of eventTypes.entries) {
    const name = eventTypeName(entry.type);
    EventTypeEnum[name] = entry.type;
    valuesConfig[name] = { description: `\`${entry.type}\`: ${entry.description}` };
  }
}

@ObjectType({ simpleResolvers: true, description: 'An event type as the modules declare it.' })
export class EventTypeInfo {
  @Field(() => EventTypeEnum)
  name: string;

  @Field(() => String, { description: 'The dotted name events and webhook payloads carry: `task.assigned`.' })
  type: string;

  @Field(() => String)
  description: string;
}
