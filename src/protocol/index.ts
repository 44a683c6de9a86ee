/** The wire protocol between the worker agent and the master: the only code both sides import. */
export * from './messages.js';
export * from './frame.js';
export * from './debug-messages.js';
export * from './step-contract.js';
