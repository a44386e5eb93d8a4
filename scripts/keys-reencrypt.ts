import {
  reencryptSecrets,
  secretsByKey,
  type ReencryptReport,
  type SecretsCount,
} from '../src/modules/webhooks/endpoint-secrets';
import { SecretBox } from '../src/modules/webhooks/secret-box';
import { UnitOfWork } from '../src/platform/database/unit-of-work';
import { loadScriptConfig, scriptDataSource, scriptLogger } from './cli-support';

const USAGE = `Usage:
  npm run keys:reencrypt                 re-seal every stored secret under the first key of DATA_ENCRYPTION_KEYS
  npm run keys:reencrypt -- --dry-run    only count the stored secrets by the key that sealed them`;

const plural = (count: number) => `${count} webhook secret${count === 1 ? '' : 's'}`;
const byKey = (counts: SecretsCount[]) => counts.map(({ keyId, count }) => `${keyId}: ${count}`).join(', ');

function printReport(report: ReencryptReport): void {
  const moved = report.moved.reduce((sum, entry) => sum + entry.count, 0);
  const from = moved > 0 ? ` (from ${byKey(report.moved)})` : '';
  process.stdout.write(
    `Re-encrypted ${plural(moved)} under key ${report.keyId}${from}; ${report.alreadyCurrent} already under it.\n`,
  );
  for (const { count, reason } of report.unreadable) {
    process.stderr.write(`${plural(count)} left unchanged: ${reason}\n`);
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = args.filter((arg) => arg !== '--dry-run');
  if (unknown.length > 0) {
    process.stderr.write(`Unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const config = loadScriptConfig();
  const dataSource = await scriptDataSource(config, scriptLogger(config));
  await dataSource.initialize();
  try {
    const uow = new UnitOfWork(dataSource);
    const box = SecretBox.fromConfig(config);
    if (args.includes('--dry-run')) {
      const counts = await secretsByKey(uow, box);
      process.stdout.write(
        `${counts.length === 0 ? 'No webhook secrets stored.' : `Webhook secrets by key: ${byKey(counts)}.`} New ones are sealed under ${box.currentKeyId}.\n`,
      );
      return 0;
    }
    const report = await reencryptSecrets(uow, box);
    printReport(report);
    return report.unreadable.length > 0 ? 1 : 0;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`keys:reencrypt failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
