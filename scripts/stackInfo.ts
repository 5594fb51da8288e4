import { readFileSync } from 'node:fs';
import path from 'node:path';

/** `<LOCAL_DATA_DIR>/stack.json`: written by a running `npm run stack`, removed when it stops. */
export const STACK_FILE = 'stack.json';

export interface StackInfo {
  readonly emulator_host: string;
  readonly project: string;
  readonly pid: number;
  readonly local_data_dir: string;
  readonly functions: Record<string, string>;
}

/** The stack running on this machine for LOCAL_DATA_DIR, or null (none, or it died without cleaning up). */
export function runningStack(localDataDir: string): StackInfo | null {
  let info: StackInfo;
  try {
    info = JSON.parse(readFileSync(path.join(path.resolve(localDataDir), STACK_FILE), 'utf8')) as StackInfo;
  } catch {
    return null;
  }
  try {
    process.kill(info.pid, 0); // signal 0: is it alive?
    return info;
  } catch {
    return null;
  }
}
