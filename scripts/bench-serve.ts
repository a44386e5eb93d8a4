import type { Server } from 'node:http';

/**
 * Listens on 127.0.0.1:PORT (0: any), prints "<name> ready on <port>" for the
 * bench, and on SIGTERM stops taking requests, runs `release`, and exits.
 */
export function serveForBench(server: Server, name: string, release: () => Promise<unknown>): void {
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${name} ready on ${typeof address === 'object' && address ? address.port : ''}\n`);
  });
  process.on('SIGTERM', () => {
    server.close(() => void release().then(() => process.exit(0)));
    // Idle keep-alive connections would otherwise hold the close open.
    server.closeAllConnections();
  });
}
