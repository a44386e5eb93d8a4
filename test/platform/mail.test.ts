import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createLogger } from '../../src/platform/logging/logger';
import { createMailer, mailSurelyNotAccepted } from '../../src/platform/mail/mailer';
import { SmtpCatcher } from '../support/smtp-catcher';
import { MemoryTransport } from '../support/memory-transport';
import { createOrganization, INVITE, ok } from '../support/organizations';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

const message = {
  to: 'ada@example.com',
  subject: 'Hello',
  text: 'Accept: https://app.example.com/invitations/accept?token=secret-link',
};

describe('the log transport', () => {
  it('writes the whole message, link included, outside production', async () => {
    const logs = new MemoryTransport();
    const mailer = createMailer({
      transport: 'log',
      from: 'x',
      withholdBodies: false,
      logger: createLogger({ level: 'info', format: 'json', transports: [logs] }),
    });
    await mailer.send(message);
    expect(logs.find(/^mail/)).toEqual([
      expect.objectContaining({ to: 'ada@example.com', subject: 'Hello', text: message.text }),
    ]);
  });

  it('withholds the body in production, where logs are no mailbox', async () => {
    const logs = new MemoryTransport();
    const mailer = createMailer({
      transport: 'log',
      from: 'x',
      withholdBodies: true,
      logger: createLogger({ level: 'info', format: 'json', transports: [logs] }),
    });
    await mailer.send(message);
    expect(logs.text()).not.toContain('secret-link');
    expect(logs.find(/^mail/)).toEqual([expect.objectContaining({ to: 'ada@example.com', bodyWithheld: true })]);
  });
});

describe('invitation mail over SMTP', () => {
  let port: number;
  let api: TestApp;
  let server: SMTPServer | Server | undefined;
  const received: { from: string; to: string[]; raw: string }[] = [];

  function startSmtp(): Promise<void> {
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
          });
          callback();
        });
      },
    });
    server = smtp;
    return new Promise((resolve) => smtp.listen(port, '127.0.0.1', () => resolve()));
  }

  async function stopServer(): Promise<void> {
    const current = server;
    server = undefined;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  beforeAll(async () => {
    const probe = createServer();
    port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)),
    );
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await startSmtp();
    api = await startTestApp({
      MAIL_TRANSPORT: 'smtp',
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      MAIL_FROM: 'Groundwork <team@example.com>',
      APP_URL: 'https://app.example.com',
      EVENTS_HANDLER_TIMEOUT_MS: '1500',
      EVENTS_RETRY_BASE_MS: '200',
      EVENTS_MAX_ATTEMPTS: '20',
    });
  });

  afterAll(async () => {
    await api?.stop();
    await stopServer();
  });

  it('delivers the invitation with its accept link to the invitee', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Mail Co');
    const email = uniqueEmail('smtp');
    await ok(api.gql(INVITE, { input: { organizationId: organization.id, email } }, { token: owner.accessToken }));

    const mail = await waitFor(() => received.find((entry) => entry.to.includes(email)));
    expect(mail.from).toBe('team@example.com');
    expect(mail.raw).toContain('Subject: You are invited to join Mail Co');
    const body = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(body).toMatch(/https:\/\/app\.example\.com\/invitations\/accept\?token=[A-Za-z0-9_-]{43}/);
  });

  it('answers the invitation while the mail server hangs, and still answers when it is gone', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner);
    await stopServer();
    const sockets: Socket[] = [];
    const hanging = createServer((socket) => sockets.push(socket));
    server = hanging;
    await new Promise<void>((resolve) => hanging.listen(port, '127.0.0.1', () => resolve()));

    const whileHanging = await api.gql(
      INVITE,
      { input: { organizationId: organization.id, email: uniqueEmail() } },
      { token: owner.accessToken },
    );
    expect(whileHanging.body.data!.inviteMember.id).toEqual(expect.any(String));
    await waitFor(() => (sockets.length > 0 ? true : undefined));
    expect(sockets[0].destroyed).toBe(false);
    for (const socket of sockets) socket.destroy();
    await stopServer();

    const email = uniqueEmail('unreachable');
    const whileDown = await api.gql(
      INVITE,
      { input: { organizationId: organization.id, email } },
      { token: owner.accessToken },
    );
    expect(whileDown.body.data!.inviteMember.id).toEqual(expect.any(String));
    const rows = (await api.app.dataSource.query('SELECT id FROM invitations WHERE email = $1', [email])) as unknown[];
    expect(rows).toHaveLength(1);
    await waitFor(() =>
      api.logs.find('event handler failed').some((entry) => entry.consumer === 'organizations') ? true : undefined,
    );

    // The mail is an event handler's work: it is retried until the server is back, and then delivered.
    await startSmtp();
    const mail = await waitFor(() => received.find((entry) => entry.to.includes(email)), 'the retried mail');
    expect(mail.raw).toContain('Subject: You are invited to join');
  });
});

describe('what a failed SMTP send says about the message', () => {
  const mailerTo = (port: number) =>
    createMailer({
      transport: 'smtp',
      from: 'x@example.com',
      smtpUrl: `smtp://127.0.0.1:${port}`,
      withholdBodies: false,
      logger: createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
    });
  const failureOf = (port: number) =>
    mailerTo(port)
      .send(message)
      .then(
        () => undefined,
        (error: unknown) => error,
      );

  it('surely not accepted: the connection is refused, or the server answers a refusal', async () => {
    const probe = createServer();
    const closed = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)),
    );
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    expect(mailSurelyNotAccepted(await failureOf(closed))).toBe(true);

    const catcher = new SmtpCatcher();
    await catcher.start();
    catcher.beforeReply = async () => 550;
    try {
      const refusal = await failureOf(catcher.port);
      expect(refusal).toMatchObject({ responseCode: 550 });
      expect(mailSurelyNotAccepted(refusal)).toBe(true);
    } finally {
      await catcher.stop();
    }
  });

  it('maybe accepted: the connection drops after the whole message went out, before the reply', async () => {
    // A server that takes the message and hangs up instead of answering "250".
    const server = createServer((socket: Socket) => {
      let inData = false;
      let buffer = '';
      socket.write('220 test ESMTP\r\n');
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('latin1');
        if (inData) {
          if (buffer.includes('\r\n.\r\n')) socket.destroy();
          return;
        }
        let end: number;
        while ((end = buffer.indexOf('\r\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^DATA/i.test(line)) {
            inData = true;
            socket.write('354 go ahead\r\n');
            return;
          }
          socket.write(/^(EHLO|HELO)/i.test(line) ? '250 test\r\n' : '250 ok\r\n');
        }
      });
      socket.on('error', () => undefined);
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
    try {
      const failure = await failureOf(port);
      expect(failure).toBeInstanceOf(Error);
      expect(mailSurelyNotAccepted(failure)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
