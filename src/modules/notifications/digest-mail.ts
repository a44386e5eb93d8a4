import type { MailMessage } from '../../platform/mail/mailer';
import type { DigestItem } from './notification-digests.repository';
import { escapeHtml } from '../../platform/html';

export interface DigestMailSettings {
  /** PRODUCT_NAME. */
  productName: string;
  /** APP_URL: the frontend, where the notifications are read. */
  appUrl: string;
}

/**
 * One digest as a mail: every notification of the window, oldest first, a
 * link to read them, and the one-click unsubscribe of RFC 8058 (the
 * List-Unsubscribe URL takes a POST of `List-Unsubscribe=One-Click`).
 */
export function digestMail(
  settings: DigestMailSettings,
  to: { email: string; name: string },
  items: readonly DigestItem[],
  messageId: string,
  unsubscribeUrl: string,
): MailMessage {
  const product = settings.productName;
  const inbox = `${settings.appUrl.replace(/\/+$/, '')}/notifications`;
  const subject =
    items.length === 1 ? `${items[0].message} (${product})` : `${items.length} new notifications on ${product}`;
  const lines = items.map((item) => `${item.message} (${new Date(item.createdAt).toISOString()})`);
  const text = [
    `Hello ${to.name},`,
    '',
    ...lines.map((line) => `- ${line}`),
    '',
    `Read them: ${inbox}`,
    '',
    `You get this mail because you chose mail for these notifications. Stop it: ${unsubscribeUrl}`,
    '',
    `— ${product}, ${settings.appUrl}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>Hello ${escapeHtml(to.name)},</p>`,
    '<ul>',
    ...lines.map((line) => `<li>${escapeHtml(line)}</li>`),
    '</ul>',
    `<p><a href="${escapeHtml(inbox)}">Read them</a></p>`,
    `<p>You get this mail because you chose mail for these notifications. <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a></p>`,
    `<p>— <a href="${escapeHtml(settings.appUrl)}">${escapeHtml(product)}</a></p>`,
    '</body></html>',
  ].join('\n');
  return {
    to: to.email,
    subject,
    text,
    html,
    messageId,
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
