/** A worker admin's contact, with a mail link when it has an address. */
import { parseContact } from './contact.js';

/** The contact, or a muted dash when none was reported. */
export function AdminContact({ admin }: { admin: string | null | undefined }) {
  if (!admin) return <span className="muted">—</span>;
  const contact = parseContact(admin);
  return contact.email ? <a href={`mailto:${contact.email}`}>{contact.name}</a> : <span>{contact.name}</span>;
}

/** A worker's admins (config, else the contact its admin set, else what the agent reports), flagged when the agent disagrees. */
export function WorkerAdmins({ worker }: { worker: { admins: string[]; admin_mismatch: boolean; info: Record<string, unknown> | null } }) {
  if (worker.admins.length === 0) return <span className="muted">—</span>;
  const reported = typeof worker.info?.admin === 'string' ? worker.info.admin : null;
  return (
    <span>
      {worker.admins.map((admin, i) => (
        <span key={admin}>
          {i > 0 && ', '}
          <AdminContact admin={admin} />
        </span>
      ))}
      {worker.admin_mismatch && (
        <span className="muted" title="the agent's own config names another admin">
          {' '}
          (⚠ agent reports {reported})
        </span>
      )}
    </span>
  );
}
