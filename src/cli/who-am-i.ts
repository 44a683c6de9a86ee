/**
 * Who runs the CLI, as the master records it on what they do (`submitted_by`,
 * who approved an application, who retired a worker).
 */
import { userInfo } from 'node:os';

/** The local user name; undefined where the system has none (some containers). */
export function whoAmI(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}
