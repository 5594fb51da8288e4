import { readSync } from 'node:fs';

/**
 * A large CSV is read a window at a time through one reused buffer rather than into memory
 * whole: memory touched for the first time is what a 166 MB file costs most (~3 ms a MB of
 * page faults on the 2-core VM, more than reading the rows), and a window stays in cache.
 */
export const WINDOW_BYTES = 1 << 20;

const NEWLINE = 0x0a;

/**
 * Hands the rows that start in [from, to) of an open file to `readRows`, window by window:
 * each window ends after its last whole row (a row longer than the window doubles it), so no
 * row is split between two calls.
 * @param to a row's start or the file's end (`size`)
 * @param readRows reads the rows that start in [0, end) of `window`, each of which ends by
 *   `end`; returns where it stopped: `end`, or the start of a row it left to someone else
 * @returns the file position where reading stopped: `to` (or where the file ended, should it
 *   have shrunk), or the start of the row `readRows` left
 */
export function readRowWindows(
  fd: number,
  size: number,
  from: number,
  to: number,
  readRows: (window: Buffer, end: number) => number,
  windowBytes = WINDOW_BYTES,
): number {
  let buffer = Buffer.allocUnsafeSlow(Math.max(1, windowBytes));
  let pos = from;
  while (pos < to) {
    const n = readAt(fd, buffer, Math.min(buffer.length, size - pos), pos);
    if (n === 0) break; // the file is shorter than it was: what it has is read
    const window = buffer.subarray(0, n);
    let end = to - pos;
    if (end > n) {
      end = window.lastIndexOf(NEWLINE) + 1;
      if (end === 0) {
        if (n < buffer.length) end = n; // the file ended early, inside this row
        else {
          buffer = Buffer.allocUnsafeSlow(2 * buffer.length);
          continue;
        }
      }
    }
    const stop = readRows(window, end);
    pos += stop;
    if (stop < end) break;
  }
  return pos;
}

/** The position of the first newline at or after `at` in the file, or -1. */
export function newlineFrom(fd: number, size: number, at: number): number {
  const buffer = Buffer.allocUnsafe(64 << 10);
  for (let pos = at; pos < size; ) {
    const n = readAt(fd, buffer, Math.min(buffer.length, size - pos), pos);
    if (n === 0) break;
    const i = buffer.subarray(0, n).indexOf(NEWLINE);
    if (i >= 0) return pos + i;
    pos += n;
  }
  return -1;
}

/** Reads up to `length` bytes at `position` into the buffer's start: fewer only at the file's end. */
export function readAt(fd: number, buffer: Uint8Array, length: number, position: number): number {
  let n = 0;
  while (n < length) {
    const read = readSync(fd, buffer, n, length - n, position + n);
    if (read === 0) break;
    n += read;
  }
  return n;
}
