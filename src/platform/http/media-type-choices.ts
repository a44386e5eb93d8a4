import Negotiator from 'negotiator';

/**
 * Apollo Server picks media types with negotiator on every request, twice
 * for a POST (whether to answer incremental results in the old format, and
 * the answer's content type), parsing the Accept header and every offered
 * type each time: 2% of a by-id read's busy time. The choice depends only on
 * the header and the offered types, so `rememberMediaTypeChoices` remembers
 * it: at most MAX_CHOICES pairs, oldest out first; a header longer than
 * MAX_HEADER_LENGTH is negotiated every time. The answers are negotiator's.
 */
const MAX_CHOICES = 256;
const MAX_HEADER_LENGTH = 512;
const chosen = new Map<string, string | undefined>();
let installed = false;

type MediaType = (this: Negotiator, available?: string[]) => string | undefined;

/** Installs the remembering `mediaType` on negotiator (which only Apollo uses here); idempotent. */
export function rememberMediaTypeChoices(): void {
  if (installed) return;
  installed = true;
  const prototype = Negotiator.prototype as { mediaType: MediaType };
  const negotiate = prototype.mediaType;
  prototype.mediaType = function (this: Negotiator, available?: string[]) {
    const accept = (this as unknown as { request: { headers: { accept?: unknown } } }).request.headers.accept;
    if (
      !Array.isArray(available) ||
      (accept !== undefined && (typeof accept !== 'string' || accept.length > MAX_HEADER_LENGTH))
    )
      return negotiate.call(this, available);
    // No header (any type) and an empty one (none) differ.
    const key = `${accept === undefined ? '-' : `=${accept}`}\n${available.join('\n')}`;
    if (chosen.has(key)) return chosen.get(key);
    const type = negotiate.call(this, available);
    if (chosen.size >= MAX_CHOICES) chosen.delete(chosen.keys().next().value!);
    chosen.set(key, type);
    return type;
  };
}

/** For tests: how many choices are remembered. */
export function rememberedMediaTypeChoices(): number {
  return chosen.size;
}
