import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';

/**
 * A loopback proxy in front of PostgreSQL that counts the statements clients
 * send: simple-protocol Query ('Q') and extended-protocol Execute ('E')
 * messages, and which of them are transaction control (BEGIN, COMMIT,
 * ROLLBACK, SAVEPOINT, RELEASE), read from the Query text or from the Parse
 * behind the executed portal. The bench gives each server its own, so they pay alike.
 */
export interface StatementCounter {
  port: number;
  statements: number;
  /** Of `statements`, the transaction control ones. */
  transactionControl: number;
  reset(): void;
  close(): Promise<void>;
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
/** Untyped messages a client may send before its StartupMessage: SSLRequest, GSSENCRequest. */
const PRE_STARTUP_CODES = new Set([80877103, 80877104]);
/** The message types whose bodies are read; the others are skipped unread. */
const READ = new Set(['Q', 'P', 'B', 'E']);

/** The NUL-terminated strings at the start of a message body. */
function cstrings(body: Buffer, count: number): string[] {
  const found: string[] = [];
  let offset = 0;
  while (found.length < count && offset < body.length) {
    const end = body.indexOf(0, offset);
    if (end < 0) break;
    found.push(body.toString('utf8', offset, end));
    offset = end + 1;
  }
  return found;
}

/** Follows one client's stream of frontend messages, reporting each statement it executes. */
export function frontendParser(onStatement: (text: string) => void): (chunk: Buffer) => void {
  let startup = true;
  let header = Buffer.alloc(0);
  let type = '';
  let remaining = 0;
  let body: Buffer[] | undefined;
  const prepared = new Map<string, string>();
  const portals = new Map<string, string>();
  const finish = (message: Buffer) => {
    if (type === 'Q') onStatement(cstrings(message, 1)[0] ?? '');
    else if (type === 'P') {
      const [name, text] = cstrings(message, 2);
      prepared.set(name, text ?? '');
    } else if (type === 'B') {
      const [portal, statement] = cstrings(message, 2);
      portals.set(portal, prepared.get(statement ?? '') ?? '');
    } else if (type === 'E') onStatement(portals.get(cstrings(message, 1)[0] ?? '') ?? '');
  };
  return (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (remaining > 0) {
        const piece = chunk.subarray(offset, offset + remaining);
        body?.push(piece);
        remaining -= piece.length;
        offset += piece.length;
        if (remaining === 0 && body) finish(Buffer.concat(body));
        continue;
      }
      const size = startup ? 8 : 5;
      const piece = chunk.subarray(offset, offset + size - header.length);
      header = Buffer.concat([header, piece]);
      offset += piece.length;
      if (header.length < size) break;
      if (startup) {
        // Length, then the protocol version or a request code; the StartupMessage ends the untyped part.
        startup = PRE_STARTUP_CODES.has(header.readInt32BE(4));
        type = '';
        remaining = header.readInt32BE(0) - 8;
      } else {
        type = String.fromCharCode(header[0]);
        remaining = header.readInt32BE(1) - 4;
      }
      header = Buffer.alloc(0);
      body = READ.has(type) ? [] : undefined;
      if (remaining === 0 && body) finish(Buffer.alloc(0));
    }
  };
}

export async function startStatementCounter(target: { host: string; port: number }): Promise<StatementCounter> {
  const counter = { statements: 0, transactionControl: 0 };
  const count = (text: string) => {
    counter.statements += 1;
    if (TRANSACTION_CONTROL.test(text)) counter.transactionControl += 1;
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    const parse = frontendParser(count);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      parse(chunk);
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
    get transactionControl() {
      return counter.transactionControl;
    },
    reset() {
      counter.statements = 0;
      counter.transactionControl = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
