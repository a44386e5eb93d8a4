import { createHash, type BinaryLike, type BinaryToTextEncoding, type Hash } from 'node:crypto';
import * as apolloHashing from '@apollo/utils.createhash';

/**
 * Apollo Server hashes every request's query text (SHA-256, hex) to find the
 * parsed and validated document in its cache, and its `createHash` runs
 * `module.require('crypto')` on every call: Node resolves the module again
 * each time. Together, 2.5% of a by-id read's busy time. `rememberQueryHashes`
 * replaces that function, for all of Apollo, by one that uses the crypto
 * module imported here and remembers the hex digest of recent texts: a query
 * sent again costs a Map lookup, not a hash. Any other use (another
 * algorithm, several updates, a Buffer, another encoding) gets crypto's own
 * Hash, so every answer is the digest crypto gives.
 */
const MAX_TEXTS = 1000;
/** Longer texts are hashed every time: the memory kept is at most MAX_TEXTS × MAX_TEXT_LENGTH characters. */
const MAX_TEXT_LENGTH = 4096;
const remembered = new Map<string, string>();

function sha256Hex(text: string): string {
  let hex = remembered.get(text);
  if (hex === undefined) {
    hex = createHash('sha256').update(text).digest('hex');
    if (text.length <= MAX_TEXT_LENGTH) {
      // Oldest first out: a Map iterates in insertion order.
      if (remembered.size >= MAX_TEXTS) remembered.delete(remembered.keys().next().value!);
      remembered.set(text, hex);
    }
  }
  return hex;
}

/** What Apollo calls: one string in, its hex digest out, remembered; anything else goes to crypto's Hash. */
class Sha256 {
  private text: string | undefined;
  private hash: Hash | undefined;

  update(data: BinaryLike, encoding?: BufferEncoding): this {
    if (this.hash === undefined && this.text === undefined && typeof data === 'string' && encoding === undefined)
      this.text = data;
    else if (typeof data === 'string' && encoding !== undefined) this.real().update(data, encoding);
    else this.real().update(data);
    return this;
  }

  digest(): Buffer;
  digest(encoding: BinaryToTextEncoding): string;
  digest(encoding?: BinaryToTextEncoding): Buffer | string {
    if (this.hash === undefined && this.text !== undefined && encoding === 'hex') return sha256Hex(this.text);
    return encoding === undefined ? this.real().digest() : this.real().digest(encoding);
  }

  private real(): Hash {
    if (this.hash === undefined) {
      this.hash = createHash('sha256');
      if (this.text !== undefined) this.hash.update(this.text);
      this.text = undefined;
    }
    return this.hash;
  }
}

/** Installs the remembering hash in place of Apollo's `createHash` (all of Apollo reads it at each call); idempotent. */
export function rememberQueryHashes(): void {
  (apolloHashing as { createHash: (kind: string) => unknown }).createHash = (kind: string) =>
    kind === 'sha256' ? new Sha256() : createHash(kind);
}

/** For tests: how many texts are remembered. */
export function rememberedQueryHashes(): number {
  return remembered.size;
}

/** For tests: whether `text`'s digest is remembered. */
export function queryHashRemembered(text: string): boolean {
  return remembered.has(text);
}
