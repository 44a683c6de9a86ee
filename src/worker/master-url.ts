/**
 * The address the agent dials: the master's worker endpoint. People write
 * the master's address (`ws://build.example.org:8010`); the endpoint is its
 * `/worker` path, added when the address has no path of its own.
 */

/** Returns the WebSocket URL of the master's worker endpoint, or throws an Error saying what is wrong. */
export function workerEndpoint(master: string): string {
  let url: URL;
  try {
    url = new URL(master);
  } catch {
    throw new Error(`"${master}" is not a URL; expected ws://HOST:PORT`);
  }
  // The master serves the API and the worker endpoint on one port, so its
  // http(s) address works too.
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new Error(`"${master}" has scheme ${url.protocol.slice(0, -1)}; expected ws://HOST:PORT or wss://HOST:PORT`);
  }
  if (url.username || url.password) throw new Error(`"${master}" holds credentials; the secret comes from secret_env`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/worker';
  url.hash = '';
  return url.toString();
}
