/**
 * Buildbot remote commands over a msgpack session: `start_command` with a
 * master-chosen `command_id`, then the worker's `update`s, file-transfer
 * requests and a final `complete`, all naming that id. The command is
 * registered before `start_command` goes out, because the worker may send
 * its updates, even its `complete`, before its response to the start.
 */
import { ProtocolError } from '../../protocol/index.js';
import type { BuildbotMessage } from './codec.js';
import { ConnectionClosedError, type MsgpackSession } from './session.js';

/** What a command's caller hears while it runs; every callback is optional. */
export interface CommandHandlers {
  /** One `update` entry (`stdout`, `stderr`, `header`, `rc`, `files`, `stat`, ...), in arrival order. */
  update?(key: string, value: unknown): void;
  /**
   * `upload_file`, `upload_directory`: the next block. A promise holds the
   * worker's next block until it settles (the worker waits for each answer);
   * a rejection fails the command on the worker.
   */
  write?(data: Buffer): void | Promise<void>;
  /** `download_file`: up to `length` further bytes (empty: the end). */
  read?(length: number): Buffer;
}

/** How a command ended. */
export interface CommandEnd {
  /** The last `rc` update (null: none came). */
  rc: number | null;
  /** The worker's `elapsed`, in seconds (null: none came). */
  elapsed: number | null;
  /** The `complete`'s failure text, when the command failed on the worker. */
  failure: string | null;
  /** Every non-output update by key (the last value of each): `files`, `stat`, ... */
  values: Map<string, unknown>;
  /** The `header` texts, in order. */
  headers: string[];
}

interface Registered {
  name: string;
  handlers: CommandHandlers;
  end: CommandEnd;
  resolve(end: CommandEnd): void;
  reject(error: Error): void;
}

/** A started command: its id (for `interrupt_command`) and its end. */
export interface StartedCommand {
  id: string;
  done: Promise<CommandEnd>;
}

/** The remote commands of one connection. */
export class RemoteCommands {
  readonly #session: MsgpackSession;
  readonly #commands = new Map<string, Registered>();
  #lastId = 0;

  constructor(session: MsgpackSession) {
    this.#session = session;
  }

  /** Starts `name` with `args`; `done` rejects when the worker refuses it or the connection closes first. */
  start(builderName: string, name: string, args: Record<string, unknown>, handlers: CommandHandlers = {}): StartedCommand {
    const id = String(++this.#lastId);
    let registered!: Registered;
    const done = new Promise<CommandEnd>((resolve, reject) => {
      registered = { name, handlers, end: { rc: null, elapsed: null, failure: null, values: new Map(), headers: [] }, resolve, reject };
    });
    this.#commands.set(id, registered);
    this.#session.request('start_command', { builder_name: builderName, command_id: id, command_name: name, args }).catch((error: Error) => {
      if (this.#commands.get(id) !== registered) return;
      this.#commands.delete(id);
      registered.reject(error);
    });
    return { id, done };
  }

  /** Asks the worker to interrupt a command (its end comes as usual). */
  interrupt(builderName: string, id: string, why: string): Promise<unknown> {
    if (!this.#commands.has(id)) return Promise.resolve(null);
    return this.#session.request('interrupt_command', { builder_name: builderName, command_id: id, why }).catch(() => null);
  }

  /** The connection closed: every running command ends with ConnectionClosedError. */
  closeAll(reason: string): void {
    const commands = [...this.#commands.values()];
    this.#commands.clear();
    for (const command of commands) command.reject(new ConnectionClosedError(`connection closed (${reason}) while ${command.name} ran`));
  }

  /**
   * Handles one of the worker's requests about a command; returns the
   * response's result. A request for a command that is not running is
   * answered with an exception (a late update after an interrupt is no lie).
   */
  dispatch(message: BuildbotMessage): unknown {
    const id = message.command_id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new ProtocolError(`${message.op} without a command_id`);
    const command = this.#commands.get(String(id));
    if (!command) throw new Error(`no command ${String(id)} is running`);
    switch (message.op) {
      case 'update':
        this.#update(command, message.args);
        return null;
      case 'complete':
        this.#commands.delete(String(id));
        if (message.args !== null && message.args !== undefined) command.end.failure = String(message.args);
        command.resolve(command.end);
        return null;
      case 'update_upload_file_write':
      case 'update_upload_directory_write': {
        if (!Buffer.isBuffer(message.args)) throw new ProtocolError(`${message.op} whose args are not bytes`);
        return command.handlers.write?.(message.args) ?? null;
      }
      case 'update_read_file': {
        const length = message.length;
        if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw new ProtocolError('update_read_file without a usable length');
        return command.handlers.read?.(length) ?? Buffer.alloc(0);
      }
      case 'update_upload_file_close':
      case 'update_upload_file_utime':
      case 'update_upload_directory_unpack':
      case 'update_read_file_close':
        return null;
      default:
        throw new Error(`op ${message.op} is not supported by this master`);
    }
  }

  #update(command: Registered, args: unknown): void {
    if (!Array.isArray(args)) throw new ProtocolError('an update whose args are not a list');
    for (const entry of args) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw new ProtocolError('an update entry that is not a [key, value] pair');
      const [key, value] = entry as [string, unknown];
      if (key === 'rc') {
        if (typeof value !== 'number' || !Number.isInteger(value)) throw new ProtocolError('an rc that is not an integer');
        command.end.rc = value;
      } else if (key === 'elapsed') {
        if (typeof value === 'number') command.end.elapsed = value;
      } else if (key === 'header') {
        command.end.headers.push(updateText(value));
      } else if (key !== 'stdout' && key !== 'stderr' && key !== 'log') {
        command.end.values.set(key, value);
      }
      command.handlers.update?.(key, value);
    }
  }
}

/**
 * The text of a `stdout`/`stderr`/`header` update: `[text, line ends, times]`
 * on this protocol (a plain string on older workers).
 */
export function updateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  throw new ProtocolError('an output update without text');
}
