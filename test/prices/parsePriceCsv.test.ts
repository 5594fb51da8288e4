import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helperThread, type HelperThread } from '../../shared/parallel/helperThread.js';
import { parsePriceCsv, readPriceCsv, type CsvSeries } from '../../shared/prices/fixturePriceSource.js';

/** A symbol's columns as plain arrays, to compare with the reference's. */
interface PlainSeries {
  dates: string[];
  close: number[];
  adjClose: number[];
}
const plain = (s: CsvSeries | undefined): PlainSeries | undefined => s && { dates: [...s.dates], close: Array.from(s.close), adjClose: Array.from(s.adjClose) };

// The reference: the cell-by-cell reader the byte reader replaced (split rows and cells, Number()).
function reference(text: string, name: string): Map<string, PlainSeries> {
  const lines = text.split('\n');
  const header = lines[0].replace(/\r$/, '').split(',').map((h) => h.trim());
  const at = (c: string) => header.indexOf(c);
  const series = new Map<string, PlainSeries>();
  const num = (cell: string | undefined) => {
    if (cell === undefined || cell.trim() === '') return NaN;
    const v = Number(cell);
    return Number.isFinite(v) ? v : NaN;
  };
  for (let i = 1; i < lines.length; i++) {
    const row = lines[i].replace(/\r$/, '');
    if (row.trim() === '') continue;
    const cells = row.split(',');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(cells[at('date')])) throw new Error(`${name}: line ${i + 1} has no ISO date.`);
    const symbol = cells[at('symbol')];
    let s = series.get(symbol);
    if (!s) series.set(symbol, (s = { dates: [], close: [], adjClose: [] }));
    s.dates.push(cells[at('date')]);
    s.close.push(num(cells[at('close')]));
    s.adjClose.push(num(cells[at('adj_close')]));
  }
  return series;
}

let seed = 11;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

// Cells of every shape a hand-edited CSV may have; most are plain decimals.
function priceCell(): string {
  const plain = () => (random() * 10 ** Math.floor(random() * 6)).toFixed(Math.floor(random() * 9));
  return random() < 0.8
    ? plain()
    : pick(['', ' ', '12', '.5', '5.', '.', '-3.25', '+1', '1e3', '2.5E-2', ' 7.5 ', '0.1234567890123456789', '123456789012345678', '0.' + '0'.repeat(25) + '1',
        '00012.50', 'abc', '1,5', 'Infinity', 'NaN', '0x10', '1_000', '9007199254740993', '123456789012345.6', '99999999999999.99']);
}

describe('parsePriceCsv', () => {
  it('reads the same columns as the cell-by-cell reader, whatever the cells look like', () => {
    let compared = 0;
    for (let file = 0; file < 30; file++) {
      const rows = ['date,symbol,open,high,low,close,adj_close,volume'];
      for (let i = 0; i < 400; i++) {
        const date = file % 3 !== 0 || random() < 0.995 ? `2024-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 10)}` : pick(['2024-1-01', ' 2024-01-01', '']);
        const symbol = pick(['AAPL', 'MSFT', 'BRK.B', '^GSPC', 'EURUSD=X', ' SPY', 'é', '"Q"', '']);
        const cells = [date, symbol, priceCell(), priceCell(), priceCell(), priceCell(), priceCell(), '100'];
        if (random() < 0.03) cells.length = 5 + Math.floor(random() * 3);
        rows.push(cells.join(',') + (random() < 0.1 ? '\r' : ''));
        if (random() < 0.02) rows.push(pick(['', '  ', '\r']));
      }
      const text = rows.join('\n') + pick(['', '\n', '\r\n']);
      let expected: Map<string, PlainSeries> | Error;
      try {
        expected = reference(text, 'f.csv');
      } catch (error) {
        expected = error as Error;
      }
      if (expected instanceof Error) expect(() => parsePriceCsv(text, 'f.csv')).toThrow(expected.message);
      else {
        compared++;
        const got = parsePriceCsv(Buffer.from(text), 'f.csv');
        expect([...got.keys()]).toEqual([...expected.keys()]);
        for (const [symbol, s] of expected) expect(plain(got.get(symbol)), symbol).toEqual(s);
      }
    }
    expect(compared).toBeGreaterThanOrEqual(20);
  });

  it('reads the same columns as the cell-by-cell reader whatever the order of the columns (a needed cell last in its row, before a "\\r")', () => {
    const names = ['date', 'symbol', 'open', 'close', 'adj_close', 'volume'];
    for (let file = 0; file < 24; file++) {
      // Every needed column last in its row in turn, the others shuffled.
      const order = [...names].sort(() => random() - 0.5);
      const last = ['date', 'symbol', 'close', 'adj_close'][file % 4];
      order.splice(order.indexOf(last), 1);
      order.push(last);
      const rows = [order.join(',')];
      for (let i = 0; i < 300; i++) {
        const cell: Record<string, string> = {
          date: random() < 0.99 ? `2024-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 10)}` : pick(['2024-1-01', '2024-01-011', '']),
          symbol: pick(['AAPL', 'MSFT', 'BRK.B', ' SPY', 'X\rY', '"Q"', '']),
          open: priceCell(),
          close: priceCell(),
          adj_close: priceCell(),
          volume: pick(['100', '', '7\r8']),
        };
        const cells = order.map((c) => cell[c]);
        if (random() < 0.03) cells.length = 3 + Math.floor(random() * 3);
        rows.push(cells.join(',') + (random() < 0.3 ? '\r' : ''));
      }
      const text = rows.join('\n') + pick(['', '\n', '\r\n', '\r']);
      let expected: Map<string, PlainSeries> | Error;
      try {
        expected = reference(text, 'o.csv');
      } catch (error) {
        expected = error as Error;
      }
      if (expected instanceof Error) expect(() => parsePriceCsv(text, 'o.csv')).toThrow(expected.message);
      else {
        const got = parsePriceCsv(Buffer.from(text), 'o.csv');
        expect([...got.keys()], order.join(',')).toEqual([...expected.keys()]);
        for (const [symbol, s] of expected) expect(plain(got.get(symbol)), `${order.join(',')} ${symbol}`).toEqual(s);
      }
    }
  });

  it('reads plain decimals bit for bit as Number() does', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? (random() * 1000).toFixed(4) : String(random() * 10 ** (i % 12))));
    const text = 'date,symbol,close,adj_close\n' + values.map((v) => `2024-01-02,X,${v},${v}`).join('\n');
    const got = parsePriceCsv(text, 'd.csv').get('X')!;
    got.close.forEach((c, i) => expect(Object.is(c, Number(values[i])), values[i]).toBe(true));
  });

  it('gives symbols listed on the same dates one dates array', () => {
    const text = 'date,symbol,close,adj_close\n' + ['2024-01-02', '2024-01-03', '2024-01-04'].flatMap((d, i) => [`${d},A,1,1`, `${d},B,2,2`, ...(i === 1 ? [] : [`${d},C,3,3`])]).join('\n');
    const got = parsePriceCsv(text, 's.csv');
    expect(got.get('A')!.dates).toBe(got.get('B')!.dates);
    expect(got.get('C')!.dates).toEqual(['2024-01-02', '2024-01-04']);
    expect(got.get('B')!.close).toEqual(Float64Array.from([2, 2, 2]));
  });

  it('names the line of a row without an ISO date', () => {
    expect(() => parsePriceCsv('date,symbol,close,adj_close\n2024-01-02,X,1,1\n2024-13,X,1,1\n', 'bad.csv')).toThrow('bad.csv: line 3 has no ISO date.');
  });
});

describe('readPriceCsv on two threads', () => {
  // A file past the size from which the helper thread reads its second half (32 MiB).
  const rows = (count: number, odd: (i: number) => string | null): string => {
    const lines = ['date,symbol,open,high,low,close,adj_close,volume'];
    for (let i = 0; i < count; i++) {
      const day = `20${String(10 + Math.floor(i / 50_000)).padStart(2, '0')}-${String(1 + (Math.floor(i / 4000) % 12)).padStart(2, '0')}-${String(1 + (Math.floor(i / 100) % 28)).padStart(2, '0')}`;
      lines.push(odd(i) ?? `${day},S${i % 100},1,1,1,${(100 + (i % 977) / 7).toFixed(4)},${(99 + (i % 331) / 3).toFixed(3)},1000`);
    }
    return lines.join('\n') + '\n';
  };
  const files = mkdtempSync(path.join(tmpdir(), 'csv-two-'));
  afterAll(() => rmSync(files, { recursive: true, force: true }));

  it('gives the columns of one thread, with rows only the general reader takes in either half', async () => {
    const count = 850_000;
    // Quoted cells, exponents and blank lines in both halves, and a symbol first met in the second.
    const text = rows(count, (i) => (i === 1000 || i === 700_000 ? '' : i === 2000 || i === 600_000 ? `2010-01-05,"S7",1,1,1,1e2,2.5E-1,1` : i === 650_000 ? '2010-01-06,LATE,1,1,1,3.5,,1' : null));
    const file = path.join(files, 'ok.csv');
    writeFileSync(file, text);
    expect(statSync(file).size).toBeGreaterThan(32 << 20);
    const helper = helperThread();
    expect(helper, 'a helper thread on this machine').not.toBeNull();
    let asked = 0;
    const two = await readPriceCsv(file, () => (asked++, helper));
    expect(asked).toBe(1);
    const one = parsePriceCsv(text, file);
    expect([...two.keys()]).toEqual([...one.keys()]);
    expect([...two.keys()]).toContain('"S7"');
    for (const [symbol, s] of one) expect(plain(two.get(symbol)), symbol).toEqual(plain(s));
    // The helper itself reads rows (the result above would be the same if it fell back to this thread).
    const bytes = Buffer.from(text);
    const from = bytes.indexOf(10, bytes.length >> 1) + 1;
    const input = { file, size: bytes.length, columns: { date: 0, symbol: 1, close: 5, adjClose: 6 }, from, to: bytes.length };
    const half = await helper!.run({ kind: 'csvRows', input });
    expect(half.lines).toBeGreaterThan(1000);
    expect(half.rows.count).toBe(half.lines);
    expect(half.rows.close[0]).toBe(Number(text.slice(from).split('\n')[0].split(',')[5]));
  });

  it('reads a file through windows of any size as parsePriceCsv reads it whole: rows across windows, rows longer than a window, rows either reader takes', async () => {
    const helper = helperThread();
    expect(helper, 'a helper thread on this machine').not.toBeNull();
    const lines = ['date,symbol,open,high,low,close,adj_close,volume'];
    for (let i = 0; i < 3000; i++) {
      const day = `2010-${String(1 + (Math.floor(i / 28) % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
      const symbol = i % 500 === 7 ? '"Q7"' : `S${i % 37}`;
      const tail = i % 211 === 3 ? `,${'x'.repeat(300)}` : ''; // longer than the smallest windows
      lines.push(i % 97 === 5 ? '' : `${day},${symbol},1,1,1,${priceCell()},${priceCell()},1000${tail}${i % 13 === 0 ? '\r' : ''}`);
    }
    for (const ending of ['\n', '']) {
      const text = lines.join('\n') + ending; // the last row with and without its newline
      const file = path.join(files, `windows${ending === '' ? '-open' : ''}.csv`);
      writeFileSync(file, text);
      const whole = parsePriceCsv(text, file);
      for (const windowBytes of [1, 16, 100, 4096, 1 << 20]) {
        const read = await readPriceCsv(file, () => helper, { splitBytes: 0, windowBytes });
        expect([...read.keys()], `window ${windowBytes}`).toEqual([...whole.keys()]);
        for (const [symbol, s] of whole) expect(plain(read.get(symbol)), `${symbol}, window ${windowBytes}`).toEqual(plain(s));
      }
    }
  });

  it('reads the second half itself, through its windows, when the helper thread fails', async () => {
    const file = path.join(files, 'helper-fails.csv');
    const text = rows(3000, (i) => (i === 2500 ? '2010-01-05,"S7",1,1,1,1e2,2.5E-1,1' : null));
    writeFileSync(file, text);
    let asked = 0;
    const failing: HelperThread = { run: () => (asked++, Promise.reject(new Error('the helper thread died'))) };
    const read = await readPriceCsv(file, () => failing, { splitBytes: 0, windowBytes: 256 });
    expect(asked).toBe(1);
    const whole = parsePriceCsv(text, file);
    expect([...read.keys()]).toEqual([...whole.keys()]);
    for (const [symbol, s] of whole) expect(plain(read.get(symbol)), symbol).toEqual(plain(s));
  });

  it('names the line of a malformed row through small windows, in either half', async () => {
    const file = path.join(files, 'bad-small.csv');
    for (const bad of [100, 1900]) {
      writeFileSync(file, rows(2000, (i) => (i === bad ? '2010-13,S1,1,1,1,1,1,1' : null)));
      await expect(readPriceCsv(file, () => helperThread(), { splitBytes: 0, windowBytes: 64 })).rejects.toThrow(`${file}: line ${bad + 2} has no ISO date.`);
    }
  });

  it('names the line of a malformed row in the second half', async () => {
    const file = path.join(files, 'bad.csv');
    let asked = 0;
    writeFileSync(file, rows(850_000, (i) => (i === 800_000 ? '2010-13,S1,1,1,1,1,1,1' : null)));
    expect(statSync(file).size).toBeGreaterThan(32 << 20);
    await expect(readPriceCsv(file, () => (asked++, helperThread()))).rejects.toThrow(`${file}: line ${800_000 + 2} has no ISO date.`);
    expect(asked).toBe(1);
  });
});
