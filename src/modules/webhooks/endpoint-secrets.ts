import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { Logger } from '../../platform/logging/logger';
import { LEGACY_KEY_ID, type SecretBox } from './secret-box';
import { WebhookEndpointsRepository, type SealedUnderKey } from './webhook-endpoints.repository';

const REENCRYPT_BATCH = 200;

/** Why the stored secrets of one key cannot be opened, or undefined when its sample opens. */
function unopenable(box: SecretBox, { sample }: SealedUnderKey): string | undefined {
  try {
    box.open(sample);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * At boot, one statement: each key the stored webhook secrets were sealed
 * under must be configured and open a sample, or the instance refuses to
 * start (it would otherwise serve and fail every delivery to those
 * endpoints). Legacy secrets no JWT secret opens only warn: they were
 * unreadable before data keys existed, and an upgrade must not stop on them.
 */
export async function checkStoredKeys(uow: UnitOfWork, box: SecretBox, logger: Logger): Promise<void> {
  const problems: string[] = [];
  for (const sealed of await uow.get(WebhookEndpointsRepository).sealedByKey()) {
    const reason = unopenable(box, sealed);
    if (!reason) continue;
    const line = `${sealed.count} webhook endpoint secret(s) ${reason}`;
    if (box.keyIdOf(sealed.sample) === LEGACY_KEY_ID)
      logger.warn(`${line}: deliveries to those endpoints fail until they are created again`);
    else problems.push(line);
  }
  if (problems.length === 0) return;
  throw new Error(
    `The database holds secrets that DATA_ENCRYPTION_KEYS cannot open:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n` +
      'List every key id still in use in DATA_ENCRYPTION_KEYS (run npm run keys:reencrypt before removing a key); see docs/operations.md.',
  );
}

export interface SecretsCount {
  keyId: string;
  count: number;
}

export interface ReencryptReport {
  /** The key every secret now is sealed under. */
  keyId: string;
  /** Re-sealed under it, by the key they were sealed under before. */
  moved: SecretsCount[];
  /** Already under it when the run started. */
  alreadyCurrent: number;
  /** Left as they were: no configured key opens them. */
  unreadable: (SecretsCount & { reason: string })[];
}

/** The stored secrets by the key that sealed them (`keys:reencrypt -- --dry-run`). */
export async function secretsByKey(uow: UnitOfWork, box: SecretBox): Promise<SecretsCount[]> {
  const sealed = await uow.get(WebhookEndpointsRepository).sealedByKey();
  return sealed.map(({ sample, count }) => ({ keyId: box.keyIdOf(sample) ?? 'unknown', count }));
}

/**
 * Re-seals every stored secret not under the first key with it, a page at a
 * time (one UPDATE per page, each row only if unchanged since it was read).
 * Idempotent: a second run finds nothing to move.
 */
export async function reencryptSecrets(
  uow: UnitOfWork,
  box: SecretBox,
  batchSize = REENCRYPT_BATCH,
): Promise<ReencryptReport> {
  const endpoints = uow.get(WebhookEndpointsRepository);
  const alreadyCurrent = (await secretsByKey(uow, box)).find((entry) => entry.keyId === box.currentKeyId)?.count ?? 0;
  const moved = new Map<string, number>();
  const unreadable = new Map<string, SecretsCount & { reason: string }>();
  let afterId: string | null = null;
  for (;;) {
    const page = await endpoints.sealedOtherwise(box.currentPrefix, afterId, batchSize);
    if (page.length === 0) break;
    afterId = page[page.length - 1].id;
    const changes: { id: string; from: string; to: string; keyId: string }[] = [];
    for (const { id, secretSealed } of page) {
      const keyId = box.keyIdOf(secretSealed) ?? 'unknown';
      try {
        changes.push({ id, from: secretSealed, to: box.seal(box.open(secretSealed)), keyId });
      } catch (error) {
        const reason = (error as Error).message;
        const entry = unreadable.get(`${keyId} ${reason}`) ?? { keyId, count: 0, reason };
        unreadable.set(`${keyId} ${reason}`, { ...entry, count: entry.count + 1 });
      }
    }
    const replaced = new Set(await endpoints.replaceSealed(changes));
    for (const change of changes.filter((entry) => replaced.has(entry.id)))
      moved.set(change.keyId, (moved.get(change.keyId) ?? 0) + 1);
  }
  return {
    keyId: box.currentKeyId,
    moved: [...moved].map(([keyId, count]) => ({ keyId, count })).sort((a, b) => a.keyId.localeCompare(b.keyId)),
    alreadyCurrent,
    unreadable: [...unreadable.values()],
  };
}
