import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import type { LiveRequest } from '../../platform/live/live-hub';
import { PageArgs, type Connection } from '../../platform/pagination';
import { User, type IdentityService } from '../identity';
import { AuditEvent, AuditEventConnection, AuditEventFilter } from './audit-event.types';
import type { AuditService } from './audit.service';

@Resolver(() => AuditEvent)
export class AuditEventResolver {
  constructor(
    private readonly audit: AuditService,
    private readonly identity: IdentityService,
  ) {}

  @Query(() => AuditEventConnection, { description: 'ADMIN+. Newest first; `first` is 1 to 100.' })
  auditEvents(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
  ): Promise<Connection<AuditEvent>> {
    return this.audit.list(ctx, organizationId, page, filter);
  }

  @Query(() => AuditEventConnection, {
    description:
      "The viewer's own account activity (password, email and session changes: entries of no organization about them), newest first; `first` is 1 to 100.",
  })
  myAccountActivity(@Ctx() ctx: RequestContext, @Args(() => PageArgs) page: PageArgs): Promise<Connection<AuditEvent>> {
    return this.audit.accountActivity(ctx, page);
  }

  @Subscription(() => AuditEvent, {
    topics: 'auditEventAdded',
    topicId: ({ args, context }): LiveRequest => ({
      context: context as RequestContext,
      argument: (args as { organizationId: string }).organizationId,
    }),
    description:
      "Over WebSocket, ADMIN+: the organization's audited events as they happen. Ends with FORBIDDEN when the viewer's role drops below ADMIN or they leave.",
  })
  auditEventAdded(@Arg('organizationId', () => ID) _organizationId: string, @Root() event: AuditEvent): AuditEvent {
    return event;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who caused it; null for the system.' })
  async actor(@Root() event: AuditEvent, @Ctx() ctx: RequestContext): Promise<User | null> {
    return event.actorId ? ((await this.identity.findById(ctx, event.actorId)) ?? null) : null;
  }

  @FieldResolver(() => String, { description: 'One line saying what happened, as the publishing module renders it' })
  summary(@Root() event: AuditEvent): string {
    return this.audit.summary(event);
  }
}
