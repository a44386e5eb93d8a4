import { Matches } from 'class-validator';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "900", "45s", "15m", "12h" or "30d" into seconds; undefined when malformed. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
  return seconds > 0 ? seconds : undefined;
}

/** The rule of every duration setting, so they all accept and explain the same forms. */
export function IsDuration(): PropertyDecorator {
  return Matches(/^\d+\s*[smhd]?$/, { message: '$property must be a duration such as 900, 45s, 15m, 12h or 30d' });
}
