"""The Monte Carlo job done the vectorized numpy way, for bench/montecarlo.ts: draw
standard_normal((rows, steps)), cumsum the log increments, exp, then percentiles.

1e6 x 252 float64 is 2 GB per array (and the obvious version holds three), so rows are
processed in chunks of CHUNK paths; each chunk keeps the terminal prices and the values at
the band time points, and percentiles, VaR and CVaR are taken over all paths at the end.

Usage: python3 bench/montecarlo_numpy.py [simulations] [time_steps] [band_points]
(band_points: the interior band time points ours keeps for that many paths, so both
compute the same statistics.)
Prints one JSON line: {"seconds": ..., "max_rss_mb": ..., ...}.
"""
import json
import resource
import sys
import time

import numpy as np

CHUNK = 50_000

start = time.perf_counter()
sims = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 252
s0, mu, sigma, T = 100.0, 0.08, 0.2, 1.0
dt = T / steps
intervals = int(sys.argv[3]) + 1 if len(sys.argv) > 3 else 33
band_steps = np.unique(np.round(np.linspace(0, steps, intervals + 1)).astype(int))[1:]  # interior points and the horizon
rng = np.random.default_rng(42)
terminal = np.empty(sims)
bands = np.empty((len(band_steps), sims), dtype=np.float32)
for lo in range(0, sims, CHUNK):
    hi = min(sims, lo + CHUNK)
    z = rng.standard_normal((hi - lo, steps))
    log_paths = np.cumsum((mu - 0.5 * sigma ** 2) * dt + sigma * np.sqrt(dt) * z, axis=1)
    paths = s0 * np.exp(log_paths)
    terminal[lo:hi] = paths[:, -1]
    bands[:, lo:hi] = (paths[:, band_steps - 1] / s0).T
pct = np.percentile(terminal, [1, 5, 25, 50, 75, 95, 99])
band_pct = np.percentile(bands, [5, 25, 50, 75, 95], axis=1)
returns = terminal / s0 - 1
var = {c: -np.quantile(returns, 1 - c) for c in (0.95, 0.99)}
cvar = {c: -returns[returns <= -var[c]].mean() for c in (0.95, 0.99)}
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "mean": float(terminal.mean()),
    "p50": float(pct[3]),
    "var_95": float(var[0.95]),
    "chunk_rows": CHUNK,
}))
