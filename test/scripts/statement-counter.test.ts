import { Client } from 'pg';
import { frontendParser, startStatementCounter, type StatementCounter } from '../../scripts/statement-counter';
import { startStandaloneDatabase, type StandaloneDatabase } from '../support/standalone-database';

/** A frontend message: type, length, NUL-terminated strings, then raw bytes. */
function message(type: string, strings: string[], tail: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([...strings.map((text) => Buffer.from(`${text}\0`)), tail]);
  const header = Buffer.alloc(5);
  header.write(type, 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function startup(): Buffer {
  const body = Buffer.from('user\0postgres\0\0');
  const header = Buffer.alloc(8);
  header.writeInt32BE(body.length + 8, 0);
  header.writeInt32BE(196608, 4);
  return Buffer.concat([header, body]);
}

describe('statement counter', () => {
  it('reads statements from Query and from the Parse behind each Execute, however the stream is cut', () => {
    const stream = Buffer.concat([
      startup(),
      message('Q', ['BEGIN']),
      message('P', ['s1', 'SELECT $1::int', '']),
      message('B', ['', 's1'], Buffer.alloc(6)),
      message('E', [''], Buffer.alloc(4)),
      message('S', []),
      message('B', ['p2', 's1'], Buffer.alloc(6)),
      message('E', ['p2'], Buffer.alloc(4)),
      message('P', ['', 'commit', '']),
      message('B', ['', ''], Buffer.alloc(6)),
      message('E', [''], Buffer.alloc(4)),
    ]);
    const whole: string[] = [];
    frontendParser((text) => whole.push(text))(stream);
    expect(whole).toEqual(['BEGIN', 'SELECT $1::int', 'SELECT $1::int', 'commit']);

    const byteByByte: string[] = [];
    const parse = frontendParser((text) => byteByByte.push(text));
    for (let offset = 0; offset < stream.length; offset += 1) parse(stream.subarray(offset, offset + 1));
    expect(byteByByte).toEqual(whole);
  });

  describe('in front of a database', () => {
    let database: StandaloneDatabase;
    let counter: StatementCounter;
    let client: Client;

    beforeAll(async () => {
      database = await startStandaloneDatabase();
      counter = await startStatementCounter({ host: database.host, port: database.port });
      client = new Client({ connectionString: database.urlVia('127.0.0.1', counter.port) });
      await client.connect();
    });

    afterAll(async () => {
      await client?.end();
      await counter?.close();
      await database?.stop();
    });

    it('counts each statement a pg client sends, and the transaction control among them', async () => {
      counter.reset();
      await client.query('BEGIN');
      await client.query('SELECT 1');
      await client.query('SELECT $1::int AS n', [2]);
      await client.query({ name: 'bench_counter_test', text: 'SELECT $1::int AS n', values: [3] });
      const { rows } = await client.query({ name: 'bench_counter_test', text: 'SELECT $1::int AS n', values: [4] });
      await client.query({ name: 'bench_counter_savepoint', text: 'SAVEPOINT s' });
      await client.query('COMMIT');
      expect(rows).toEqual([{ n: 4 }]);
      expect({ statements: counter.statements, transactionControl: counter.transactionControl }).toEqual({
        statements: 7,
        transactionControl: 3,
      });

      counter.reset();
      expect({ statements: counter.statements, transactionControl: counter.transactionControl }).toEqual({
        statements: 0,
        transactionControl: 0,
      });
    });
  });
});
