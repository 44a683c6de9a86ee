/**
 * The web UI's entry: the query cache, the one live event stream, the API
 * token and the router around the app.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { LiveEventsProvider } from './api/live.js';
import { TokenProvider } from './api/token.js';
import { App } from './app.js';
import './styles.css';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // Fresh until the event stream says otherwise: no polling.
      staleTime: 60_000,
      refetchOnWindowFocus: false,
      retry: (failures, error) => failures < 2 && !(error instanceof Error && 'status' in error && (error as { status: number }).status < 500),
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <LiveEventsProvider>
        <TokenProvider>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </TokenProvider>
      </LiveEventsProvider>
    </QueryClientProvider>
  </StrictMode>,
);
