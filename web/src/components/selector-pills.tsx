/** A builder's worker selector: worker names as links, or dimensions as `os=linux` pills. */
import { Link } from 'react-router';
import { selectorItems, type WorkerSelector } from './worker-selector.js';
import './farm-views.css';

/** The selector, inline. */
export function SelectorPills({ selector }: { selector: WorkerSelector }) {
  const items = selectorItems(selector);
  if (items.length === 0) return <span className="muted">any worker</span>;
  return (
    <span className="pills">
      {items.map((item) =>
        item.kind === 'worker' ? (
          <Link key={`w:${item.name}`} className="pill" to={`/workers/${encodeURIComponent(item.name)}`}>
            {item.name}
          </Link>
        ) : (
          <span key={`d:${item.text}`} className="pill mono">
            {item.text}
          </span>
        ),
      )}
    </span>
  );
}

/** Dimensions of a worker as `key=value` pills. */
export function DimensionPills({ dimensions }: { dimensions: Record<string, string> }) {
  if (Object.keys(dimensions).length === 0) return <span className="muted">none</span>;
  return <SelectorPills selector={dimensions} />;
}
