import { types } from 'pg';

/** pg's own parser of timestamptz text (postgres-date), for every text the fast path does not take. */
const parseAnyTimestamp = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text') as (text: string) => unknown;

const ZERO = 48;

/** The number written by `count` ASCII digits of `text` from `start`; -1 if one is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i += 1) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * A timestamptz as PostgreSQL writes it (DateStyle ISO): `2026-01-02
 * 03:04:05.123456+00`, with an offset of `±HH` or `±HH:MM`, read without a
 * regular expression. It answers exactly what pg's parser (postgres-date)
 * answers: the same `Date.UTC` of the same fields, the fraction's
 * milliseconds computed as `1000 × 0.fraction` as it computes them (an
 * integer over a power of ten is the double nearest the decimal, as
 * parseFloat's is). Any other shape (infinity, BC, a year before 1000 or
 * after 9999, an offset with seconds) goes to pg's parser. pg's took 10.6%
 * of the CPU of a list of 200 tasks (q2 of the bench) and a sixth of its
 * allocations: a regular expression's match array, and strings, per value.
 */
export function parseTimestamptz(text: string): unknown {
  return readTimestamptz(text) ?? parseAnyTimestamp(text);
}

/** parseTimestamptz's fast path alone: the Date of a text of PostgreSQL's usual shape, else undefined. */
export function readTimestamptz(text: string): Date | undefined {
  const length = text.length;
  if (
    length >= 22 &&
    text.charCodeAt(4) === 45 && // -
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 32 && // space
    text.charCodeAt(13) === 58 && // :
    text.charCodeAt(16) === 58
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hour = digitsAt(text, 11, 2);
    const minute = digitsAt(text, 14, 2);
    const second = digitsAt(text, 17, 2);
    let at = 19;
    let ms = 0;
    if (text.charCodeAt(at) === 46) {
      // .
      let fraction = 0;
      let scale = 1;
      at += 1;
      while (at < length && scale < 1e6) {
        const digit = text.charCodeAt(at) - ZERO;
        if (digit < 0 || digit > 9) break;
        fraction = fraction * 10 + digit;
        scale *= 10;
        at += 1;
      }
      ms = scale === 1 ? -1 : 1000 * (fraction / scale);
    }
    const sign = text.charCodeAt(at) === 43 ? 1 : text.charCodeAt(at) === 45 ? -1 : 0; // + or -
    const offsetHours = digitsAt(text, at + 1, 2);
    let offsetMinutes = 0;
    let end = at + 3;
    if (end < length && text.charCodeAt(end) === 58) {
      offsetMinutes = digitsAt(text, end + 1, 2);
      end += 3;
    }
    if (
      year >= 1000 &&
      month >= 0 &&
      day >= 0 &&
      hour >= 0 &&
      minute >= 0 &&
      second >= 0 &&
      ms >= 0 &&
      sign !== 0 &&
      offsetHours >= 0 &&
      offsetMinutes >= 0 &&
      end === length
    ) {
      const offsetMs = sign * (offsetHours * 3600 + offsetMinutes * 60) * 1000;
      return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs);
    }
  }
  return undefined;
}

let installed = false;

/** Makes pg parse every timestamptz with parseTimestamptz (pg's type parsers are per process). */
export function useFastTimestamps(): void {
  if (installed) return;
  installed = true;
  types.setTypeParser(types.builtins.TIMESTAMPTZ, parseTimestamptz);
}
