/**
 * A Copy button for a secret, a command or a config file. The clipboard API
 * needs a secure context (https or localhost); elsewhere the button selects
 * the text instead and says to copy it by hand, rather than failing quietly.
 */
import { useState } from 'react';

/** Copies `text`; `targetId` is the element holding it (selected when the clipboard is unavailable). */
export function CopyButton({ text, label, targetId }: { text: string; label: string; targetId: string }) {
  const [said, setSaid] = useState<string | null>(null);
  async function copy() {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      setSaid('copied');
    } catch {
      const target = document.getElementById(targetId);
      const selection = window.getSelection();
      if (target && selection) {
        selection.selectAllChildren(target);
        setSaid('selected: copy it with Ctrl+C');
      } else setSaid('copy it by hand');
    }
  }
  return (
    <span className="copy">
      <button type="button" onClick={() => void copy()} aria-label={`Copy ${label}`}>
        Copy
      </button>
      {said && (
        <span className="muted" role="status">
          {' '}
          {said}
        </span>
      )}
    </span>
  );
}
