import { cpus } from 'node:os';
import { hashPassword, verifyPassword } from '../src/modules/identity/passwords';

/**
 * `npm run bench:passwords`: what a password hash costs here at
 * PASSWORD_HASH_COST (default 17: scrypt N=2^17, r=8, p=1, OWASP's
 * recommendation): the time of one hash, then --parallel (50) logins at
 * once, with the process's peak RSS. scrypt runs on libuv's thread pool
 * (UV_THREADPOOL_SIZE, 4 by default), so at most that many 128 MiB buffers
 * exist at a time, whatever the number of logins waiting.
 */
async function main(): Promise<void> {
  const option = (name: string, fallback: number) => {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const logN = Number(process.env.PASSWORD_HASH_COST ?? 17);
  const parallel = option('parallel', 50);
  const rssBefore = process.memoryUsage().rss;

  let started = performance.now();
  const stored = await hashPassword('correct horse battery staple', logN);
  const oneHashMs = performance.now() - started;

  started = performance.now();
  const results = await Promise.all(
    Array.from({ length: parallel }, () => verifyPassword('correct horse battery staple', stored)),
  );
  const parallelMs = performance.now() - started;
  if (!results.every(Boolean)) throw new Error('a verification failed');

  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(
    `scrypt N=2^${logN} r=8 p=1 on ${cpus().length} CPUs, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4}\n` +
      `one hash: ${Math.round(oneHashMs)} ms\n` +
      `${parallel} logins at once: ${Math.round(parallelMs)} ms in all (${Math.round(parallelMs / parallel)} ms each on average)\n` +
      `RSS before: ${Math.round(rssBefore / 1048576)} MiB, peak: ${peakRssMiB} MiB\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:passwords failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
