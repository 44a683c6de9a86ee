/**
 * Result notifications: mail, webhooks (Shepherd JSON, Slack, Zulip,
 * Discord) and GitHub commit statuses, driven by the event bus.
 */
export { startNotifiers, publicUrlOf, TRY_AUTHOR_NOTIFIER, type NotifierDeps, type NotifierService } from './notifier-service.js';
export { createSmtpMailer, addressOf, displayNameOf, mailAddresses, type Mailer, type MailMessage } from './mailer.js';
