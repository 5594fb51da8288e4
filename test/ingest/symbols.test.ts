import { describe, expect, it } from 'vitest';
import { JobError } from '../../shared/job/errors.js';
import { resolveSymbol } from '../../shared/ingest/symbols.js';

describe('resolveSymbol', () => {
  it.each([
    ['AAPL.US', 'eodhd', 'AAPL', 'AAPL.US'],
    ['AAPL', 'eodhd', 'AAPL', 'AAPL.US'],
    ['aapl.us', 'eodhd', 'AAPL', 'AAPL.US'],
    ['BRK-B.US', 'eodhd', 'BRK-B', 'BRK-B.US'],
    ['VOD.LSE', 'eodhd', 'VOD.LSE', 'VOD.LSE'],
    ['AAPL.US', 'twelvedata', 'AAPL', 'AAPL'],
    ['MSFT', 'twelvedata', 'MSFT', 'MSFT'],
  ] as const)('equity %s at %s is stored as %s and asked as %s', (requested, source, stored, vendor) => {
    expect(resolveSymbol(requested, source, 'equity')).toEqual({ requested, stored, vendor });
  });

  it.each([
    ['EURUSD.FOREX', 'eodhd', 'EURUSD', 'EURUSD.FOREX'],
    ['EUR/USD', 'eodhd', 'EURUSD', 'EURUSD.FOREX'],
    ['EURUSD', 'twelvedata', 'EURUSD', 'EUR/USD'],
    ['EURUSD.FOREX', 'twelvedata', 'EURUSD', 'EUR/USD'],
    ['eur-usd', 'twelvedata', 'EURUSD', 'EUR/USD'],
  ] as const)('fx %s at %s is stored as %s and asked as %s', (requested, source, stored, vendor) => {
    expect(resolveSymbol(requested, source, 'fx')).toEqual({ requested, stored, vendor });
  });

  it.each([
    ['BTC-USD.CC', 'eodhd', 'BTCUSD', 'BTC-USD.CC'],
    ['BTC/USD', 'eodhd', 'BTCUSD', 'BTC-USD.CC'],
    ['BTCUSD', 'eodhd', 'BTCUSD', 'BTC-USD.CC'],
    ['BTC-USD.CC', 'twelvedata', 'BTCUSD', 'BTC/USD'],
    ['ETHUSDT', 'twelvedata', 'ETHUSDT', 'ETH/USDT'],
    ['ETH/BTC', 'twelvedata', 'ETHBTC', 'ETH/BTC'],
  ] as const)('crypto %s at %s is stored as %s and asked as %s', (requested, source, stored, vendor) => {
    expect(resolveSymbol(requested, source, 'crypto')).toEqual({ requested, stored, vendor });
  });

  it('maps both ways: the stored name resolves to the same vendor name as the vendor name itself', () => {
    for (const source of ['eodhd', 'twelvedata'] as const) {
      for (const [cls, sym] of [['fx', 'GBP/JPY'], ['crypto', 'SOL-USD.CC'], ['equity', 'NVDA.US']] as const) {
        const first = resolveSymbol(sym, source, cls);
        expect(resolveSymbol(first.stored, source, cls).vendor).toBe(first.vendor);
        expect(resolveSymbol(first.vendor, source, cls).stored).toBe(first.stored);
      }
    }
  });

  it.each([
    ['AAPL.US.X', 'eodhd', 'equity'],
    ['', 'eodhd', 'equity'],
    ['AAPL; DROP', 'eodhd', 'equity'],
    ['VOD.LSE', 'twelvedata', 'equity'],
    ['EURO/USD', 'eodhd', 'fx'],
    ['EURUS', 'twelvedata', 'fx'],
    ['BTCXYZ', 'eodhd', 'crypto'],
  ] as const)('rejects %s at %s as %s with invalid_job naming it', (requested, source, cls) => {
    let caught: unknown;
    try {
      resolveSymbol(requested, source, cls);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(JobError);
    expect((caught as JobError).code).toBe('invalid_job');
    expect((caught as JobError).message).toContain(`"${requested}"`);
  });
});
