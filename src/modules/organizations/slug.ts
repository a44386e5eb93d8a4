import { randomBytes } from 'node:crypto';

export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const SLUG_MAX_LENGTH = 48;

/** "Café Zürich & Co." -> "cafe-zurich-co": lower-case ASCII letters and digits joined by single hyphens. */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/-+$/, '');
  return slug || 'org';
}

/** A derived slug that was taken gets a short random suffix; the user did not choose it, so no CONFLICT. */
export function withSuffix(slug: string): string {
  const suffix = randomBytes(3).toString('hex');
  return `${slug.slice(0, SLUG_MAX_LENGTH - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}
