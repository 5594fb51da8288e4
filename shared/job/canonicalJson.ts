/**
 * JSON with object keys sorted at every depth and no whitespace: equal values give equal
 * text, whatever order the publisher wrote the keys in. Array order is kept (it means
 * something: `symbols`, `weights`, `options`). Undefined members are left out, as
 * JSON.stringify does; an undefined array element is `null`. Every other value is written
 * as JSON.stringify writes it (a non-finite number, a function or a symbol is `null`).
 * This text is what a job's digest is taken of (jobDigest.ts): it must never change.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonicalJson(value, (text) => parts.push(text));
  return parts.join('');
}

/**
 * canonicalJson(value) handed to `write` in consecutive pieces of about `chunkSize`
 * characters, so that a 16 MB job is hashed and stored without ever being one string. Pieces
 * end between JSON tokens: each is valid UTF-16 on its own (JSON escapes a lone surrogate),
 * so the pieces' UTF-8 bytes, concatenated, are the UTF-8 of the whole text.
 */
export function writeCanonicalJson(value: unknown, write: (text: string) => void, chunkSize = 1 << 16): void {
  const writer = new CanonicalWriter(write, chunkSize);
  writer.value(value, 0);
  writer.flush();
}

/** Deeper than this, a value is written by the stack writer (the recursive one would overflow the call stack). */
const MAX_DEPTH = 200;

/** An object's members in canonical order, with the text that introduces each. */
interface Shape {
  /** The object's own keys, as Object.keys gives them: what the next object is compared with. */
  readonly keys: readonly string[];
  /** The same keys sorted (UTF-16 code units, as Array.prototype.sort). */
  readonly sorted: readonly string[];
  /** `"key":` for each sorted key. */
  readonly first: readonly string[];
  /** `,"key":` for each sorted key. */
  readonly next: readonly string[];
}

/**
 * Writes canonical JSON recursively into a string that is handed on and started afresh every
 * `chunkSize` characters. Numbers are written by string concatenation, which V8 does with
 * the same shortest round-trip digits as JSON.stringify (`${-0}` is "0", as in JSON), through
 * its number-to-string cache. An array of records (100,000 options) costs one Object.keys
 * per record: a record with the keys of the previous record at its depth reuses that
 * record's sorted order and key texts.
 */
class CanonicalWriter {
  private text = '';
  private readonly shapes: (Shape | undefined)[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly chunkSize: number,
  ) {}

  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'string':
        this.text += JSON.stringify(value);
        break;
      case 'number':
        this.text += Number.isFinite(value) ? `${value}` : 'null';
        break;
      case 'boolean':
        this.text += value ? 'true' : 'false';
        break;
      case 'object':
        if (value === null) this.text += 'null';
        else if (depth >= MAX_DEPTH) this.text += stackCanonicalJson(value);
        else if (Array.isArray(value)) this.array(value, depth);
        else this.object(value as Record<string, unknown>, depth);
        break;
      default:
        // undefined, a function, a symbol: as JSON.stringify writes it alone, else null.
        this.text += stackCanonicalJson(value);
    }
    if (this.text.length >= this.chunkSize) this.flush();
  }

  flush(): void {
    if (this.text === '') return;
    this.write(this.text);
    this.text = '';
  }

  private array(items: readonly unknown[], depth: number): void {
    this.text += '[';
    for (let i = 0; i < items.length; ) {
      const records = items.length >= RECORD_RUN ? recordRun(items, i) : null;
      if (records !== null) {
        // JSON.stringify with the sorted key list as property list writes these records'
        // canonical text (in C++, ~1.5x the writer's speed): each has exactly those keys and only
        // primitive values, so nothing is looked up through a prototype and nothing nested
        // meets the list.
        const text = JSON.stringify(items.slice(i, records.end), records.sorted as string[]);
        this.text += i > 0 ? `,${text.slice(1, -1)}` : text.slice(1, -1);
        i = records.end;
        if (this.text.length >= this.chunkSize) this.flush();
        continue;
      }
      if (i > 0) this.text += ',';
      const item = items[i];
      if (item === undefined) this.text += 'null';
      else this.value(item, depth + 1);
      i++;
    }
    this.text += ']';
  }

  private object(record: Record<string, unknown>, depth: number): void {
    const shape = this.shapeOf(Object.keys(record), depth);
    const { sorted, first, next } = shape;
    this.text += '{';
    let written = false;
    for (let i = 0; i < sorted.length; i++) {
      const member = record[sorted[i]];
      if (member === undefined) continue;
      this.text += written ? next[i] : first[i];
      written = true;
      this.value(member, depth + 1);
    }
    this.text += '}';
  }

  /** The shape of an object with these own keys: the previous one at this depth if its keys are the same. */
  private shapeOf(keys: string[], depth: number): Shape {
    const last = this.shapes[depth];
    if (last !== undefined && sameKeys(last.keys, keys)) return last;
    const sorted = [...keys].sort();
    const first = sorted.map((key) => `${JSON.stringify(key)}:`);
    const shape: Shape = { keys, sorted, first, next: first.map((text) => `,${text}`) };
    this.shapes[depth] = shape;
    return shape;
  }
}

/** From this many elements on, an array's runs of flat records are written by JSON.stringify. */
const RECORD_RUN = 256;
/** At most this many records a JSON.stringify call (a piece of text of ~100 KB for options). */
const RUN_LENGTH = 1024;

/**
 * The run of flat records starting at items[start]: elements that are plain objects (prototype
 * Object.prototype or null) with the same own keys in the same order as the first, none of
 * them `__proto__`, and only strings, numbers, booleans, null or undefined as values; at
 * least 2 and at most RUN_LENGTH of them. Null if items[start] does not start one.
 */
function recordRun(items: readonly unknown[], start: number): { end: number; sorted: readonly string[] } | null {
  const first = items[start];
  const keys = flatRecordKeys(first);
  if (keys === null || keys.includes('__proto__')) return null;
  const limit = Math.min(items.length, start + RUN_LENGTH);
  let end = start + 1;
  while (end < limit) {
    const next = flatRecordKeys(items[end]);
    if (next === null || !sameKeys(keys, next)) break;
    end++;
  }
  return end - start >= 2 ? { end, sorted: [...keys].sort() } : null;
}

/** The own keys of a plain object whose values are all primitives that JSON writes alike in any writer; else null. */
function flatRecordKeys(item: unknown): string[] | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
  const prototype = Object.getPrototypeOf(item) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return null;
  const record = item as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let k = 0; k < keys.length; k++) {
    const value = record[keys[k]];
    const type = typeof value;
    if (type !== 'number' && type !== 'string' && type !== 'boolean' && value !== null && value !== undefined) return null;
  }
  return keys;
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
