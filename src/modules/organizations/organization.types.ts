import { Field, ID, ObjectType } from 'type-graphql';
import { connectionType } from '../../platform/pagination';
import { Role } from './role';

@ObjectType({
  simpleResolvers: true,
  description: 'A customer: everything organization-owned is visible only to its members.',
})
export class Organization {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  name: string;

  @Field(() => String, { description: 'Lower-case, URL-safe and unique.' })
  slug: string;

  @Field(() => Boolean, {
    description:
      'Whether accepting an invitation needs a verified email (EMAIL_NOT_VERIFIED otherwise); off by default.',
  })
  requireVerifiedEmail: boolean;

  @Field(() => Date)
  createdAt: Date;
}

@ObjectType({ simpleResolvers: true, description: "A user's place in an organization." })
export class Membership {
  @Field(() => ID)
  id: string;

  @Field(() => Role)
  role: Role;

  @Field(() => Date)
  createdAt: Date;

  /** Not fields: resolved to `user` and `organization`. */
  userId: string;
  organizationId: string;
}

export const MembershipConnection = connectionType('Membership', Membership);

@ObjectType({ simpleResolvers: true, description: 'An offer to join an organization, sent by mail.' })
export class Invitation {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  email: string;

  @Field(() => Role)
  role: Role;

  @Field(() => Date)
  expiresAt: Date;

  @Field(() => Date, { nullable: true })
  acceptedAt: Date | null;

  organizationId: string;
}
