import { MAX_NUMBER_BYTES, writeJsonNumber } from '../results/jsonBytes.js';
import { isPresented, type PresentedValue } from './presentedValue.js';

/**
 * JSON with object keys sorted at every depth and no whitespace: equal values give equal
 * text, whatever order the publisher wrote the keys in. Array order is kept (it means
 * something: `symbols`, `weights`, `options`). Undefined members are left out, as
 * JSON.stringify does; an undefined array element is `null`. Every other value is written
 * as JSON.stringify writes it (a non-finite number, a function or a symbol is `null`).
 * This text is what a job's digest is taken of (jobDigest.ts): it must never change.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null'; // what the writer writes for it
  const pieces: Buffer[] = [];
  const writer = new CanonicalWriter((piece) => pieces.push(piece), 1 << 16, FIRST_CHUNK);
  writer.value(value, 0);
  writer.flush();
  return pieces.length === 1 ? pieces[0].toString('utf8') : Buffer.concat(pieces).toString('utf8');
}

/**
 * canonicalJson(value) as UTF-8, handed to `write` in consecutive pieces of at most about
 * `chunkBytes` bytes (more only for a single longer token), each a buffer of its own that
 * `write` may keep: a 16 MB job is hashed and stored without ever being one string or one
 * buffer. Pieces end between JSON tokens, so each is valid UTF-8 on its own.
 */
export function writeCanonicalJsonBytes(value: unknown, write: (piece: Buffer) => void, chunkBytes = 1 << 16): void {
  const writer = new CanonicalWriter(write, chunkBytes);
  writer.value(value, 0);
  writer.flush();
}

/**
 * canonicalJson(value) handed to `write` in consecutive pieces of about `chunkSize` bytes of
 * UTF-8 each (writeCanonicalJsonBytes's pieces as text): each piece ends between JSON tokens.
 */
export function writeCanonicalJson(value: unknown, write: (text: string) => void, chunkSize = 1 << 16): void {
  writeCanonicalJsonBytes(value, (piece) => write(piece.toString('utf8')), chunkSize);
}

/**
 * The first chunk of canonicalJson's writer, doubled for each next one: it is called on every
 * member of two jobs told apart (differentJobMessage), 200,000 times for two batches of options.
 */
const FIRST_CHUNK = 256;

/** Deeper than this, a value is written by the stack writer (the recursive one would overflow the call stack). */
const MAX_DEPTH = 200;

/** An object's members in canonical order, with the bytes that introduce each. */
interface Shape {
  /** The object's own keys, as Object.keys gives them: what the next object is compared with. */
  readonly keys: readonly string[];
  /** The same keys sorted (UTF-16 code units, as Array.prototype.sort). */
  readonly sorted: readonly string[];
  /** `"key":` for each sorted key, as UTF-8. */
  readonly first: readonly Uint8Array[];
  /** `,"key":` for each sorted key, as UTF-8. */
  readonly next: readonly Uint8Array[];
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/**
 * Writes canonical JSON recursively into byte chunks, handing each on when the next token does
 * not fit (tokens are never split). Numbers are written by writeJsonNumber (JSON.stringify's
 * digits, without a string for the usual short decimals), plain ASCII strings byte by byte, any
 * other string through JSON.stringify (its escapes, a lone surrogate as `\udxxx`) and then
 * UTF-8. An array of records (100,000 options) costs one Object.keys per record: a record with
 * the keys of the previous record at its depth reuses that record's sorted order and key bytes.
 */
class CanonicalWriter {
  private chunk: Buffer;
  private at = 0;
  private readonly shapes: (Shape | undefined)[] = [];

  /**
   * @param chunkBytes the size of a chunk
   * @param firstBytes the size of the first chunk (smaller for a value that is likely small), doubled for each next up to chunkBytes
   */
  constructor(
    private readonly write: (piece: Buffer) => void,
    private readonly chunkBytes: number,
    firstBytes = chunkBytes,
  ) {
    this.chunk = Buffer.alloc(firstBytes);
  }

  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'string':
        this.string(value);
        break;
      case 'number':
        if (this.at + MAX_NUMBER_BYTES > this.chunk.length) this.spill(MAX_NUMBER_BYTES);
        this.at = writeJsonNumber(this.chunk, this.at, value);
        break;
      case 'boolean':
        this.bytes(value ? TRUE : FALSE);
        break;
      case 'object':
        if (value === null) this.bytes(NULL);
        else if (depth >= MAX_DEPTH) this.text(stackCanonicalJson(value));
        else if (Array.isArray(value)) this.array(value, depth);
        else if (isPresented(value)) this.presented(value);
        else this.object(value as Record<string, unknown>, depth);
        break;
      default:
        // undefined, a function, a symbol: as JSON.stringify writes it alone, else null.
        this.text(stackCanonicalJson(value));
    }
  }

  /** Hands on what the current chunk holds (the last piece). */
  flush(): void {
    if (this.at > 0) this.write(this.chunk.subarray(0, this.at));
    this.at = 0;
  }

  /** A presented value's own canonical pieces, after what the current chunk holds; writing goes on in the chunk's unused rest. */
  private presented(value: PresentedValue): void {
    if (this.at > 0) this.write(this.chunk.subarray(0, this.at));
    value.writeCanonical(this.write);
    this.chunk = this.chunk.length - this.at >= 256 ? this.chunk.subarray(this.at) : Buffer.alloc(this.chunkBytes);
    this.at = 0;
  }

  /** Hands on the current chunk and starts one with room for `bytes`. */
  private spill(bytes: number): void {
    if (this.at > 0) this.write(this.chunk.subarray(0, this.at));
    this.chunk = Buffer.alloc(Math.max(Math.min(2 * this.chunk.length, this.chunkBytes), bytes));
    this.at = 0;
  }

  private byte(code: number): void {
    if (this.at === this.chunk.length) this.spill(1);
    this.chunk[this.at++] = code;
  }

  private bytes(bytes: Uint8Array): void {
    const length = bytes.length;
    if (this.at + length > this.chunk.length) this.spill(length);
    const chunk = this.chunk;
    let at = this.at;
    // Keys and literals are a few bytes: a loop beats TypedArray.set's call on them.
    if (length < 32) for (let i = 0; i < length; i++) chunk[at++] = bytes[i];
    else (chunk.set(bytes, at), (at += length));
    this.at = at;
  }

  /** JSON text (a string JSON.stringify escaped, the stack writer's output) as UTF-8. */
  private text(json: string): void {
    const most = json.length * 3;
    if (this.at + most > this.chunk.length) this.spill(most);
    this.at += this.chunk.write(json, this.at, most, 'utf8');
  }

  /** A string as JSON.stringify writes it: printable ASCII but a quote or a backslash byte for byte, anything else through JSON.stringify. */
  private string(value: string): void {
    const length = value.length;
    if (this.at + length + 2 > this.chunk.length) this.spill(length + 2);
    const chunk = this.chunk;
    let at = this.at;
    chunk[at++] = QUOTE;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) return this.text(JSON.stringify(value));
      chunk[at++] = code;
    }
    chunk[at++] = QUOTE;
    this.at = at;
  }

  private array(items: readonly unknown[], depth: number): void {
    this.byte(0x5b); // [
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.byte(COMMA);
      const item = items[i];
      if (item === undefined) this.bytes(NULL);
      else this.value(item, depth + 1);
    }
    this.byte(0x5d); // ]
  }

  private object(record: Record<string, unknown>, depth: number): void {
    const { sorted, first, next } = this.shapeOf(Object.keys(record), depth);
    this.byte(0x7b); // {
    let written = false;
    for (let i = 0; i < sorted.length; i++) {
      const member = record[sorted[i]];
      if (member === undefined) continue;
      this.bytes(written ? next[i] : first[i]);
      written = true;
      this.value(member, depth + 1);
    }
    this.byte(0x7d); // }
  }

  /** The shape of an object with these own keys: the previous one at this depth if its keys are the same. */
  private shapeOf(keys: string[], depth: number): Shape {
    const last = this.shapes[depth];
    if (last !== undefined && sameKeys(last.keys, keys)) return last;
    const sorted = [...keys].sort();
    const first = sorted.map((key) => Buffer.from(`${JSON.stringify(key)}:`, 'utf8'));
    const shape: Shape = { keys, sorted, first, next: sorted.map((key) => Buffer.from(`,${JSON.stringify(key)}:`, 'utf8')) };
    this.shapes[depth] = shape;
    return shape;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * canonicalJson written token by token on an explicit stack: any depth, any value (a job
 * that did not validate may be nested deeper than the call stack allows, and must still be
 * digested). The recursive writer above hands it what lies deeper than MAX_DEPTH.
 */
function stackCanonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof Literal) out.push(item.text);
    else if (Array.isArray(item)) {
      stack.push(new Literal(']'));
      for (let i = item.length - 1; i >= 0; i--) {
        stack.push(item[i] === undefined ? null : item[i]);
        if (i > 0) stack.push(new Literal(','));
      }
      stack.push(new Literal('['));
    } else if (typeof item === 'object' && item !== null) {
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      stack.push(new Literal('}'));
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(record[keys[i]]);
        stack.push(new Literal(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`));
      }
      stack.push(new Literal('{'));
    } else out.push(JSON.stringify(item) ?? 'null');
  }
  return out.join('');
}

/** A piece of canonical JSON text already written out (on the stack writer's stack). */
class Literal {
  constructor(readonly text: string) {}
}
