/**
 * A worker admin's contact as configured (`Jane Doe <jane@example.org>`, a
 * bare address, or any text), split so the UI can offer a mail link.
 */

/** The name to show and the address to mail, when there is one. */
export function parseContact(text: string): { name: string; email: string | null } {
  const trimmed = text.trim();
  const angle = /^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$/.exec(trimmed);
  if (angle) return { name: angle[1]!.trim() || angle[2]!, email: angle[2]! };
  if (/^[^\s@<>]+@[^\s@<>]+$/.test(trimmed)) return { name: trimmed, email: trimmed };
  return { name: trimmed, email: null };
}

/** `info.admin` of a worker, when the agent reported a text one. */
export function adminOf(info: Record<string, unknown> | null | undefined): string | null {
  const admin = info?.admin;
  return typeof admin === 'string' && admin.trim() !== '' ? admin : null;
}
