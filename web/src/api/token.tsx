/**
 * The API token, kept in the browser's storage. Actions (force, rebuild,
 * cancel, try) are offered only when one is set; when the master refuses it,
 * the token is marked refused and the UI says so, instead of failing quietly.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

const STORAGE_KEY = 'shepherd.apiToken';

/** The token and what can be done with it. */
export interface TokenState {
  token: string | null;
  /** Set when the master answered 401 to it. */
  refused: boolean;
  setToken(token: string | null): void;
  markRefused(): void;
}

const TokenContext = createContext<TokenState | null>(null);

function readStored(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled
  }
}

/** Provides the token to the app. */
export function TokenProvider({ children }: { children: ReactNode }) {
  const [token, setTokenState] = useState<string | null>(readStored);
  const [refused, setRefused] = useState(false);
  const setToken = useCallback((value: string | null) => {
    const trimmed = value?.trim() || null;
    try {
      if (trimmed) window.localStorage.setItem(STORAGE_KEY, trimmed);
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch {
      // storage disabled: the token lasts for this page only
    }
    setTokenState(trimmed);
    setRefused(false);
  }, []);
  const markRefused = useCallback(() => setRefused(true), []);
  const value = useMemo(() => ({ token, refused, setToken, markRefused }), [token, refused, setToken, markRefused]);
  return <TokenContext.Provider value={value}>{children}</TokenContext.Provider>;
}

/** The API token state. */
export function useToken(): TokenState {
  const state = useContext(TokenContext);
  if (!state) throw new Error('useToken outside TokenProvider');
  return state;
}
