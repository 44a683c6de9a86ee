/** The master's HTTP API: what the rest of the master imports. */
export { createHttpServer, type HttpServerOptions } from './server.js';
export type { ForceInput, MasterControl, WorkerView } from './control.js';
