/**
 * The mail a worker's admins get when a debug session waits for their
 * approval (`debug: { approval: true }` in the worker's own config). The
 * approval is an HMAC of the session id keyed with the worker's secret, so
 * the mail can only point the way: the admin approves with
 * `shepherd approve`, or on the web page, which computes the token in the
 * browser without sending the secret anywhere.
 */
import type { MailMessage } from '../notify/mailer.js';
import type { AwaitingApproval } from './debug-broker.js';

/** The approval request for `session`, to `admins`. */
export function approvalMail(session: AwaitingApproval, admins: string[], publicUrl: string): MailMessage {
  const base = publicUrl.replace(/\/+$/, '');
  const what = session.command ? `to run \`${session.command.join(' ')}\`` : 'for an interactive shell';
  return {
    to: admins,
    subject: `[shepherd] ${session.user} asks for a debug session on ${session.worker} (build ${session.buildId})`,
    text: [
      `${session.user} asks ${what} on your worker ${session.worker}, in the working directory of build ${session.buildId}:`,
      `  ${base}/builds/${session.buildId}`,
      '',
      'Your worker holds the session until you approve it (its debug.max limit counts meanwhile). Approve it with the worker\'s secret:',
      `  shepherd approve ${session.session} --secret-env VAR --master ${base}`,
      `or on ${base}/debug/${session.session}/approve (the page computes the approval in your browser; the secret is not sent).`,
      '',
      'Not expecting this? Do nothing: the session is never opened, and it ends at the limit.',
    ].join('\n'),
    headers: { 'X-Shepherd-Debug-Session': session.session },
  };
}
