"""The Markowitz job done the usual Python way, for bench/markowitz.ts to time as a whole process.

pandas reads the CSV, pivots to one column per symbol, keeps the dates all symbols have,
takes simple returns; scikit-learn's LedoitWolf (or np.cov) gives the covariance; numpy
solves for the GMV and tangency portfolios and the closed-form frontier (shorts allowed).
Prints the result document as JSON on stdout.
Usage: python3 bench/markowitz_reference.py <prices.csv> <job.json>
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.covariance import LedoitWolf


def main(csv_path, job_path):
    started = time.perf_counter()
    with open(job_path) as f:
        job = json.load(f)
    params = job.get("params", {})
    ppy = params.get("periods_per_year", 252)
    rf = params.get("risk_free_rate", 0.0)
    points = params.get("frontier_points", 20)
    if params.get("long_only"):
        raise SystemExit("the reference implements the shorts-allowed job only")
    symbols = job["symbols"]
    df = pd.read_csv(csv_path, dtype={"symbol": str, "date": str})
    df = df[df["symbol"].isin(symbols) & (df["date"] >= job["start"]) & (df["date"] <= job["end"])]
    df["price"] = df["adj_close"].fillna(df["close"])
    prices = df.pivot(index="date", columns="symbol", values="price")[symbols].sort_index().dropna()
    rets = prices.pct_change().dropna()
    x = rets.to_numpy()
    mu = x.mean(axis=0) * ppy
    if params.get("covariance", "ledoit_wolf") == "sample":
        cov = np.cov(x, rowvar=False) * ppy
        shrinkage = 0.0
    else:
        lw = LedoitWolf().fit(x)
        cov = lw.covariance_ * ppy
        shrinkage = float(lw.shrinkage_)
    ones = np.ones(len(symbols))
    u = np.linalg.solve(cov, ones)
    v = np.linalg.solve(cov, mu)
    a, b, c = ones @ u, ones @ v, mu @ v

    def portfolio(w):
        er = float(mu @ w)
        vol = float(np.sqrt(w @ cov @ w))
        return {"weights": dict(zip(symbols, w.tolist())), "expected_return": er, "volatility": vol, "sharpe": (er - rf) / vol}

    gmv = portfolio(u / a)
    max_sharpe = portfolio((v - rf * u) / (b - rf * a)) if b - rf * a > 0 else None
    r0 = b / a
    high = mu.max() if mu.max() > r0 else r0 + mu.max() - mu.min()
    d = a * c - b * b
    frontier = [{"expected_return": float(r), "volatility": float(np.sqrt(1 / a + a * (r - r0) ** 2 / d))} for r in np.linspace(r0, high, points)]
    result = {
        "symbols": symbols,
        "gmv": gmv,
        "max_sharpe": max_sharpe,
        "frontier": frontier,
        "shrinkage": shrinkage,
        "expected_returns": dict(zip(symbols, mu.tolist())),
        "covariance": cov.tolist(),
    }
    doc = {"job_id": job["job_id"], "model": "markowitz", "status": "completed", "duration_ms": (time.perf_counter() - started) * 1000,
           "inputs": {"observations": len(x), "window": {"start": prices.index[0], "end": prices.index[-1]}}, "result": result}
    sys.stdout.write(json.dumps(doc) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
