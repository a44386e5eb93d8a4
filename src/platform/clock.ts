/** What time it is: the system's, or a test's that it can move forward (token expiry is then tested without waiting). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
