/** An email as typed, made comparable: no surrounding spaces, the domain (case-insensitive by RFC 5321) in lower case. */
export function normaliseEmailInput(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const email = value.trim();
  const at = email.lastIndexOf('@');
  return at < 0 ? email : `${email.slice(0, at + 1)}${email.slice(at + 1).toLowerCase()}`;
}

/**
 * Normalises an email field of an input DTO before it is validated.
 * type-graphql fills a DTO with Object.assign, which calls the setter this
 * puts on the prototype; the setter stores the normalised value as the
 * instance's own property, so the DTO reads, spreads and validates as usual.
 */
export function NormalisedEmail(): PropertyDecorator {
  return (prototype, key) => {
    Object.defineProperty(prototype, key, {
      configurable: true,
      get: () => undefined,
      set(this: object, value: unknown) {
        Object.defineProperty(this, key, {
          value: normaliseEmailInput(value),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
    });
  };
}
