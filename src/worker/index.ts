/**
 * The worker agent's public surface, for the `shepherd worker` command in
 * `src/cli` and for tests. The stand-alone bundle enters through `main.ts`.
 */
export { startWorkerAgent, type WorkerAgent } from './agent.js';
export { resolveWorkerOptions, WorkerConfigError, WorkerConfigFile, type WorkerFlags } from './config.js';
export { AGENT_DEFAULTS, type AgentOptions } from './options.js';
export { stderrLogger, type Logger } from './logger.js';
export { AGENT_VERSION } from './version.js';
export { detectWorkerInfo } from './info.js';
