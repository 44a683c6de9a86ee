/**
 * How a worker's state reads: an icon and a word, never colour alone. Takes
 * any state string, so new states (missing, paused) need one line here.
 */

/** The icon, word and CSS class of a worker state. */
export function workerStateLook(state: string): { icon: string; label: string; key: string } {
  switch (state) {
    case 'building':
      return { icon: '◷', label: 'building', key: 'building' };
    case 'idle':
      return { icon: '●', label: 'idle', key: 'idle' };
    case 'offline':
      return { icon: '○', label: 'offline', key: 'offline' };
    case 'missing':
      return { icon: '‼', label: 'missing', key: 'missing' };
    case 'orphaned':
      return { icon: '✖', label: 'orphaned', key: 'missing' };
    case 'paused':
      return { icon: '⏸', label: 'paused', key: 'paused' };
    default:
      return { icon: '?', label: state, key: 'unknown' };
  }
}
