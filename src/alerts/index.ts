/** @module alerts: state-change alerts to backend owners by email and webhooks, flap-damped and retried. */
export { AlertError, AlertErrorCodes, type AlertErrorCode } from './alert-error.js';
export {
  AlertManager,
  retryDelayMs,
  type AlertDelivery,
  type AlertManagerEvents,
  type AlertManagerOptions,
  type AlertRetryOptions,
} from './alert-manager.js';

export { createAlertChannels, type AlertChannelSettings } from './create-alert-channels.js';
export { EmailChannel, type EmailChannelOptions } from './email-channel.js';
export { parseEmailSettings, type EmailSettings } from './email-settings.js';
export { FlapDamper, type FlapDamperOptions, type TimerScheduler } from './flap-damper.js';
export type { AlertChannel, AlertEvent } from './types.js';
export { WebhookChannel, type WebhookChannelOptions, type WebhookPayload } from './webhook-channel.js';
