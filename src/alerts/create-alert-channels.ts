/** @module alerts/create-alert-channels: builds the channels an `AlertManager` delivers to from plain settings. */
import type { Logger } from '../types.js';
import { EmailChannel } from './email-channel.js';
import { parseEmailSettings } from './email-settings.js';
import type { AlertChannel } from './types.js';
import { WebhookChannel, type WebhookChannelOptions } from './webhook-channel.js';

/** What {@link createAlertChannels} builds from. */
export interface AlertChannelSettings {
  /** smart-stick's `email` block, as kept in the config (see {@link parseEmailSettings}). */
  readonly email?: Readonly<Record<string, unknown>> | undefined;
  readonly webhooks?: readonly WebhookChannelOptions[] | undefined;
  /** Given to the email channel (debug lines for skipped alerts). */
  readonly logger?: Logger | undefined;
}

/**
 * One channel per configured target: an {@link EmailChannel} for an enabled `email` block, a
 * {@link WebhookChannel} per webhook. Throws an `AlertError` (`KW_ERR_ALERT_CONFIG`) on unusable settings,
 * so call it at start-up.
 *
 * @example
 * const channels = createAlertChannels({ email: config.email, webhooks: [{ url, format: 'slack' }] });
 * const alerts = new AlertManager({ channels, logger });
 */
export function createAlertChannels(settings: AlertChannelSettings): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (settings.email) {
    const email = parseEmailSettings(settings.email);
    if (email) channels.push(new EmailChannel({ ...email, logger: settings.logger }));
  }
  const webhooks = settings.webhooks ?? [];
  webhooks.forEach((webhook, i) => {
    const channel = new WebhookChannel(webhook);
    // Two webhooks on one host would share a name; number them so logs and events tell them apart.
    const numbered = webhook.name === undefined && webhooks.length > 1;
    channels.push(numbered ? new WebhookChannel({ ...webhook, name: `${channel.name}#${i + 1}` }) : channel);
  });
  return channels;
}
