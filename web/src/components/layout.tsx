/**
 * The frame around every page: the navigation, whether live updates are
 * connected, and the API token box (actions appear only with a token; so
 * does the Applications link, with how many wait for a decision).
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { NavLink } from 'react-router';
import { useLiveConnected } from '../api/live.js';
import { useApplications } from '../api/queries.js';
import { useToken } from '../api/token.js';
import { pendingCount } from '../pages/applications-order.js';
import '../pages/fleet-pages.css';

const NAV: { to: string; label: string }[] = [
  { to: '/', label: 'Home' },
  { to: '/builders', label: 'Builders' },
  { to: '/grid', label: 'Grid' },
  { to: '/console', label: 'Console' },
  { to: '/workers', label: 'Workers' },
  { to: '/coverage', label: 'Coverage' },
  { to: '/farm-health', label: 'Health' },
  { to: '/join', label: 'Join' },
];

/** Operators' link: shown with a token, with the pending count (refreshed by the application events). */
function ApplicationsLink() {
  const { token } = useToken();
  const applications = useApplications();
  if (!token) return null;
  const pending = pendingCount(applications.data);
  return (
    <NavLink to="/applications" aria-label={pending > 0 ? `Applications, ${pending} pending` : 'Applications'}>
      Applications
      {pending > 0 && (
        <span className="nav-count" aria-hidden="true">
          {pending}
        </span>
      )}
    </NavLink>
  );
}

/** The token box: enter, replace or forget the API token. */
function TokenBox() {
  const { token, refused, setToken } = useToken();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  function save(event: FormEvent) {
    event.preventDefault();
    setToken(draft);
    setDraft('');
    setEditing(false);
  }
  if (editing) {
    return (
      <form className="token-form" onSubmit={save}>
        <label>
          <span className="sr-only">API token</span>
          <input type="password" autoComplete="off" placeholder="API token" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
        </label>
        <button type="submit">Save</button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </form>
    );
  }
  return (
    <div className="token-box">
      {token && refused && <span className="error">token refused by the master</span>}
      {token && !refused && <span className="muted">token set</span>}
      <button type="button" onClick={() => setEditing(true)}>
        {token ? 'Change token' : 'Enter API token'}
      </button>
      {token && (
        <button type="button" onClick={() => setToken(null)}>
          Forget
        </button>
      )}
    </div>
  );
}

/** The page frame. */
export function Layout({ children }: { children: ReactNode }) {
  const live = useLiveConnected();
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand">
          Shepherd
        </NavLink>
        <nav aria-label="Main">
          {NAV.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.to === '/'}>
              {item.label}
            </NavLink>
          ))}
          <ApplicationsLink />
        </nav>
        <span className={`live ${live ? 'live-on' : 'live-off'}`} title={live ? 'live updates connected' : 'live updates disconnected; reconnecting'}>
          {live ? '● live' : '○ offline'}
        </span>
        <TokenBox />
      </header>
      <main>{children}</main>
    </div>
  );
}
