/** Any URL the UI does not know. */
import { Link } from 'react-router';

/** The 404 page. */
export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. <Link to="/">Go home</Link>.
      </p>
    </section>
  );
}
