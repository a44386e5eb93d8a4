import { createServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait';

/** A message as the catcher received it over SMTP, its MIME parts decoded. */
export interface CaughtMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function splitHeaders(part: string): { headers: Record<string, string>; body: string } {
  const at = part.search(/\r?\n\r?\n/);
  const head = at < 0 ? part : part.slice(0, at);
  const body = at < 0 ? '' : part.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function decodeHeader(value: string): string {
  // RFC 2047: the whitespace between two adjacent encoded words is not part of the text.
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

/** The header fields of a raw message, unfolded, by lower-case name. */
export function headersOf(raw: string): Record<string, string> {
  return splitHeaders(raw).headers;
}

/** Text and HTML of a message: a single part, or the parts of a multipart one (one level, as nodemailer writes text + html). */
export function parseMail(raw: string): { subject: string; text: string; html: string } {
  const { headers, body } = splitHeaders(raw);
  const subject = decodeHeader(headers.subject ?? '');
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) {
    const decoded = decodeBody(headers, body);
    return /text\/html/i.test(headers['content-type'] ?? '')
      ? { subject, text: '', html: decoded }
      : { subject, text: decoded, html: '' };
  }
  let text = '';
  let html = '';
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break;
    const part = splitHeaders(chunk.replace(/^\r?\n/, ''));
    const decoded = decodeBody(part.headers, part.body.replace(/\r?\n$/, ''));
    if (/text\/html/i.test(part.headers['content-type'] ?? '')) html = decoded;
    else if (/text\/plain/i.test(part.headers['content-type'] ?? '')) text = decoded;
  }
  return { subject, text, html };
}

/** An SMTP server in this process, on a free port: the app's smtp transport delivers to it over TCP. */
export class SmtpCatcher {
  readonly mails: CaughtMail[] = [];
  private server?: SMTPServer;
  port = 0;
  /**
   * Runs once a message's data has arrived, before the server answers: a test
   * can act while the sender waits for the reply, or refuse the message by
   * returning an SMTP reply code (it is then not kept).
   */
  beforeReply?: (mail: CaughtMail) => Promise<number | void>;

  async start(): Promise<void> {
    const probe = createServer();
    this.port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)),
    );
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('latin1');
          const mail: CaughtMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            raw,
            ...parseMail(raw),
          };
          void (this.beforeReply?.(mail) ?? Promise.resolve()).then(
            (refusal) => {
              if (typeof refusal === 'number') {
                callback(Object.assign(new Error('refused by the test'), { responseCode: refusal }));
                return;
              }
              this.mails.push(mail);
              callback();
            },
            (error: unknown) => callback(error as Error),
          );
        });
      },
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  /** The settings that point the app's mailer at this catcher. */
  get env(): Record<string, string> {
    return { MAIL_TRANSPORT: 'smtp', SMTP_URL: `smtp://127.0.0.1:${this.port}` };
  }

  to(address: string): CaughtMail[] {
    return this.mails.filter((mail) => mail.to.includes(address));
  }

  /** Waits for the `count`-th mail to `address` whose subject matches. */
  async waitFor(address: string, subject: RegExp, count = 1): Promise<CaughtMail> {
    return waitFor(
      () => this.to(address).filter((mail) => subject.test(mail.subject))[count - 1],
      `mail #${count} "${subject.source}" to ${address}`,
    );
  }

  /** The token of a link to `path` in a mail's text. */
  static tokenIn(mail: CaughtMail, path: string): string {
    const token = new RegExp(`${path.replace(/\//g, '\\/')}\\?token=([A-Za-z0-9_-]{43})`).exec(mail.text)?.[1];
    if (!token) throw new Error(`no ${path} link in "${mail.subject}": ${mail.text}`);
    return token;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A clock a test moves forward, so expiry is tested without waiting. */
export class TestClock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
