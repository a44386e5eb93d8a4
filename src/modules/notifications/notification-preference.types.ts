import { ArrayMaxSize, IsBoolean, IsString, MaxLength, ValidateNested } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';

@ObjectType({ description: 'How the viewer hears of one type of notification.' })
export class NotificationPreference {
  @Field(() => String, { description: 'The type, as `Notification.type` names it, e.g. task.assigned.' })
  type: string;

  @Field(() => String)
  description: string;

  @Field(() => Boolean, { description: 'Always true: every notification is listed in the app.' })
  inApp: boolean;

  @Field(() => Boolean, { description: 'Whether this type is mailed, in a digest per window.' })
  mail: boolean;

  @Field(() => Boolean, { description: 'What `mail` is until the viewer chooses.' })
  mailByDefault: boolean;
}

@InputType()
export class NotificationMailChoice {
  @Field(() => String, { description: 'One of the types `notificationPreferences` lists.' })
  @IsString()
  @MaxLength(100)
  type: string;

  @Field(() => Boolean)
  @IsBoolean()
  mail: boolean;
}

@InputType()
export class UpdateNotificationPreferencesInput {
  @Field(() => [NotificationMailChoice], { description: 'Types not named keep their setting; each type at most once.' })
  @ValidateNested({ each: true })
  @ArrayMaxSize(50)
  mail: NotificationMailChoice[];
}
