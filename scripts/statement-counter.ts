import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';

/**
 * A loopback proxy in front of PostgreSQL that counts the statements clients
 * send: simple-protocol Query ('Q') and extended-protocol Execute ('E')
 * messages. Both benchmarked servers connect through it, so it costs them alike.
 */
export interface StatementCounter {
  port: number;
  statements: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startStatementCounter(target: { host: string; port: number }): Promise<StatementCounter> {
  const counter = { statements: 0 };
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    let startup = true;
    let header = Buffer.alloc(0);
    let skip = 0;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      let offset = 0;
      while (offset < chunk.length) {
        if (skip > 0) {
          const taken = Math.min(skip, chunk.length - offset);
          skip -= taken;
          offset += taken;
          continue;
        }
        const needed = (startup ? 4 : 5) - header.length;
        const piece = chunk.subarray(offset, offset + needed);
        header = Buffer.concat([header, piece]);
        offset += piece.length;
        if (header.length < (startup ? 4 : 5)) break;
        if (startup) {
          skip = header.readInt32BE(0) - 4;
          startup = false;
        } else {
          const type = String.fromCharCode(header[0]);
          if (type === 'Q' || type === 'E') counter.statements += 1;
          skip = header.readInt32BE(1) - 4;
        }
        header = Buffer.alloc(0);
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    get statements() {
      return counter.statements;
    },
    reset() {
      counter.statements = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
