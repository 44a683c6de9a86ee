/**
 * Passwords in repository URLs (`https://user:token@host/repo.git`) must not
 * reach logs, step commands or error messages.
 */

/** Replaces the password of every URL in `text` by `***`: `https://user:***@host/x`. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^/\s@]*@/gi, '$1:***@');
}
