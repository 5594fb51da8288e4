import { closeSync, openSync } from 'node:fs';
import { crossProductsSimd, type TileRows } from '../models/markowitz/crossProductsKernel.js';
import { matrixJsonChunks } from '../models/markowitz/matrixJson.js';
import { FastRowReader, type CsvColumns, type FastRows } from '../prices/csvRows.js';
import { readRowWindows } from '../prices/csvWindows.js';

/**
 * What the helper thread (helperThread.ts) can be asked to do, each a function of its input
 * alone (the CSV reader reads its range of the file itself): the same code the calling
 * thread runs on its own half.
 */
export interface HelperTasks {
  /** The fast CSV reader over the rows starting in [from, to) of a file of `size` bytes, which it reads a window at a time. */
  csvRows: {
    input: { readonly file: string; readonly size: number; readonly columns: CsvColumns; readonly from: number; readonly to: number; readonly windowBytes?: number };
    output: { readonly rows: FastRows; readonly stop: number; readonly lines: number };
  };
  /** Tile rows of the cross products G = D D' of D (p*n, in shared memory); null without WebAssembly SIMD. */
  crossProductTiles: {
    input: { readonly d: Float64Array; readonly p: number; readonly n: number; readonly chunk: number; readonly rows: TileRows };
    output: Float64Array | null;
  };
  /** The JSON text of a p*p matrix as rows, in UTF-8 chunks (matrixJsonChunks). */
  matrixJson: {
    input: { readonly values: Float64Array; readonly p: number };
    output: Uint8Array[];
  };
}

export type HelperTask<K extends keyof HelperTasks = keyof HelperTasks> = { readonly kind: K; readonly input: HelperTasks[K]['input'] };

/** A task as posted to the worker, with the id its reply carries. */
export interface HelperRequest {
  readonly id: number;
  readonly task: HelperTask;
}

export type HelperReply = { readonly id: number; readonly output: unknown } | { readonly id: number; readonly error: string };

/** Runs a task: its output and the buffers to transfer (not copy) back. */
export function runHelperTask(task: HelperTask): { output: unknown; transfer: ArrayBuffer[] } {
  switch (task.kind) {
    case 'csvRows': {
      const { file, size, columns, from, to, windowBytes } = (task as HelperTask<'csvRows'>).input;
      const fd = openSync(file, 'r');
      try {
        const reader = new FastRowReader(new Uint8Array(0), columns, Math.ceil((to - from) / 48));
        let lines = 0;
        const stop = readRowWindows(fd, size, from, to, (window, end) => {
          reader.rebind(window);
          const read = reader.read(0, end);
          lines += read.lines;
          return read.stop;
        }, windowBytes);
        const rows = reader.take();
        return { output: { rows, stop, lines }, transfer: [rows.symbolIds.buffer, rows.dateDigits.buffer, rows.close.buffer, rows.adjClose.buffer] };
      } finally {
        closeSync(fd);
      }
    }
    case 'crossProductTiles': {
      const { d, p, n, chunk, rows } = (task as HelperTask<'crossProductTiles'>).input;
      const g = crossProductsSimd(d, p, n, chunk, rows);
      return { output: g, transfer: g ? [g.buffer] : [] };
    }
    case 'matrixJson': {
      const { values, p } = (task as HelperTask<'matrixJson'>).input;
      const chunks = matrixJsonChunks(values, p);
      return { output: chunks, transfer: chunks.map((chunk) => chunk.buffer as ArrayBuffer) };
    }
  }
  throw new Error(`unknown task ${String((task as { kind: unknown }).kind)}`);
}
