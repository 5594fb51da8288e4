"""The Black-Scholes job done the vectorized numpy/scipy way, for bench/blackscholes.ts: read
the same job file the whole-job run reads, price every option with its five Greeks, solve the
implied volatility of every quote (vectorized Newton steps on vega, kept inside a bisection
bracket, to 1e-12 of the price), and write the same result document (result.options with the
same fields, `implied_volatility: null` and a sentence outside the no-arbitrage bounds) to a
file and to stdout, as the command-line runner does.

Usage: python3 bench/blackscholes_numpy.py <job.json> <result.json>
Prints the document on stdout (bench/measure.py times the process and reads its peak memory).
"""
import json
import resource
import sys
import time
from datetime import datetime, timezone

import numpy as np
from scipy.special import ndtr

start = time.perf_counter()
started_at = datetime.now(timezone.utc).isoformat()
with open(sys.argv[1], 'rb') as f:
    job = json.load(f)
params = job['params']
options = params.get('options') or [params]


def column(key, default=None):
    values = [o.get(key, params.get(key, default)) for o in options]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


is_call = np.array([o.get('option_type', params.get('option_type', 'call')) == 'call' for o in options])
S, K, T = column('spot'), column('strike'), column('time_to_expiry')
r, q, sigma = column('risk_free_rate', 0.0), column('dividend_yield', 0.0), column('volatility')
market = column('market_price')
w = np.where(is_call, 1.0, -1.0)
sqrtT = np.sqrt(T)
dq, dr = np.exp(-q * T), np.exp(-r * T)


def price_of(vol):
    sT = vol * sqrtT
    d1 = (np.log(S / K) + (r - q + 0.5 * vol * vol) * T) / sT
    return w * (S * dq * ndtr(w * d1) - K * dr * ndtr(w * (d1 - sT))), d1, sT


# Price and Greeks at the given volatility (QuantLib's conventions, per year, per 1.00).
price, d1, sT = price_of(sigma)
d2 = d1 - sT
pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
Nd1, Nd2 = ndtr(w * d1), ndtr(w * d2)
delta = w * dq * Nd1
gamma = dq * pdf / (S * sT)
vega = S * dq * pdf * sqrtT
theta = -S * dq * pdf * sigma / (2 * sqrtT) + w * (q * S * dq * Nd1 - r * K * dr * Nd2)
rho = w * K * T * dr * Nd2

# Implied volatility: no-arbitrage bounds, then safeguarded Newton on the active quotes.
lower = np.maximum(w * (S * dq - K * dr), 0.0)
upper = np.where(is_call, S * dq, K * dr)
has_quote = ~np.isnan(market)
below = has_quote & (market < lower)
above = has_quote & (market >= upper)
solvable = has_quote & ~below & ~above
iv = np.full(len(options), np.nan)
lo, hi = np.full(len(options), 1e-9), np.full(len(options), 100.0)
vol = np.full(len(options), 0.3)
active = np.nonzero(solvable)[0]
for _ in range(100):
    if active.size == 0:
        break
    Sa, Ka, Ta, ra, qa, wa, ma = S[active], K[active], T[active], r[active], q[active], w[active], market[active]
    va = vol[active]
    sTa = va * np.sqrt(Ta)
    d1a = (np.log(Sa / Ka) + (ra - qa + 0.5 * va * va) * Ta) / sTa
    pa = wa * (Sa * np.exp(-qa * Ta) * ndtr(wa * d1a) - Ka * np.exp(-ra * Ta) * ndtr(wa * (d1a - sTa)))
    diff = pa - ma
    vga = Sa * np.exp(-qa * Ta) * np.exp(-0.5 * d1a * d1a) / np.sqrt(2 * np.pi) * np.sqrt(Ta)
    lo[active] = np.where(diff < 0, va, lo[active])
    hi[active] = np.where(diff > 0, va, hi[active])
    step = va - diff / np.where(vga > 0, vga, np.inf)
    outside = ~((step > lo[active]) & (step < hi[active])) | ~np.isfinite(step)
    nxt = np.where(outside, 0.5 * (lo[active] + hi[active]), step)
    done = (np.abs(diff) <= 1e-12 * np.maximum(ma, 1e-300)) | (np.abs(nxt - va) <= 4e-16 * va)
    vol[active] = nxt
    iv[active[done]] = va[done]
    active = active[~done]
iv[active] = vol[active]

now = datetime.now(timezone.utc).isoformat()
out = []
keys = ('option_type', 'symbol', 'spot', 'strike', 'time_to_expiry', 'risk_free_rate', 'dividend_yield', 'volatility',
        'volatility_source', 'price', 'delta', 'gamma', 'theta', 'vega', 'rho')
columns = [S.tolist(), K.tolist(), T.tolist(), r.tolist(), q.tolist(), sigma.tolist(),
           price.tolist(), delta.tolist(), gamma.tolist(), theta.tolist(), vega.tolist(), rho.tolist()]
market_list, iv_list, lower_list, upper_list = market.tolist(), iv.tolist(), lower.tolist(), upper.tolist()
for i, (s_, k_, t_, r_, q_, v_, p_, de_, ga_, th_, ve_, rh_) in enumerate(zip(*columns)):
    kind = 'call' if is_call[i] else 'put'
    o = {'option_type': kind, 'symbol': None, 'spot': s_, 'strike': k_, 'time_to_expiry': t_, 'risk_free_rate': r_,
         'dividend_yield': q_, 'volatility': v_, 'volatility_source': 'params', 'price': p_, 'delta': de_, 'gamma': ga_,
         'theta': th_, 'vega': ve_, 'rho': rh_}
    if has_quote[i]:
        o['market_price'] = market_list[i]
        if below[i]:
            o['implied_volatility'] = None
            o['implied_volatility_error'] = f'The {kind} price {market_list[i]} is below its lower no-arbitrage bound {lower_list[i]}, so no volatility produces it.'
        elif above[i]:
            o['implied_volatility'] = None
            o['implied_volatility_error'] = f'The {kind} price {market_list[i]} is at or above its upper no-arbitrage bound {upper_list[i]}, which only an infinite volatility reaches.'
        else:
            o['implied_volatility'] = iv_list[i]
    out.append(o)
document = {'job_id': job['job_id'], 'model': 'blackscholes', 'status': 'completed', 'started_at': started_at, 'finished_at': now,
            'duration_ms': (time.perf_counter() - start) * 1000, 'inputs': {'option_count': len(out), 'symbols': {}},
            'result': {'options': out}, 'artifacts': {'result': sys.argv[2]}}
text = json.dumps(document) + '\n'
with open(sys.argv[2], 'w') as f:
    f.write(text)
sys.stdout.write(text)
sys.stdout.flush()
