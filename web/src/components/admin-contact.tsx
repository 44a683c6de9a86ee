/** A worker admin's contact, with a mail link when it has an address. */
import { parseContact } from './contact.js';

/** The contact, or a muted dash when none was reported. */
export function AdminContact({ admin }: { admin: string | null | undefined }) {
  if (!admin) return <span className="muted">—</span>;
  const contact = parseContact(admin);
  return contact.email ? <a href={`mailto:${contact.email}`}>{contact.name}</a> : <span>{contact.name}</span>;
}
