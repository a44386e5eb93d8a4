export const REDACTED = '[REDACTED]';

/** Keys whose values are secrets wherever they appear: password, newPassword, refreshToken, x-api-key, JWT_SECRET... */
const SECRET_KEY = /pass(word)?|token|secret|authorization|cookie|api[-_]?key|credential|signature/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of `value` with every value under a secret-looking key replaced, at any depth.
 * Cycles are cut; Errors keep their message and stack.
 */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  if (value instanceof Date) return value;
  const source =
    value instanceof Error ? { ...value, name: value.name, message: value.message, stack: value.stack } : value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(source)) {
    copy[key] = isSecretKey(key) && item !== undefined && item !== null ? REDACTED : redact(item, seen);
  }
  return copy;
}
