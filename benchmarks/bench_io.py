"""Benchmark: gridgeo's time parser and report CSV reader vs plain pandas on the same data.

Times: N values in one column, (a) all ``2026-03-05 08:07:00`` (the common export), (b) mixed:
ISO 8601 with ``+08:00``/``Z``, ``2026/3/5 8:07``, ``2026年3月5日 8时7分``, compact, Excel serials
and Unix epochs. The peer is ``pandas.to_datetime`` with the one format for (a) and
``format="mixed", utc=True, errors="coerce"`` for (b) (it reads fewer of the values; the share
read is printed). CSV: ``gridgeo.io.read_reports`` (encoding detection, codes kept as text,
coordinate checks) vs ``pandas.read_csv`` of the same file.

Peak memory is ``tracemalloc``'s peak of a second, traced call (Python allocations, NumPy
included); times come from the first, untraced call.

    python benchmarks/bench_io.py              # 1,000,000 values / rows
    python benchmarks/bench_io.py --n 200000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridgeo import io as gio


def measure(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time of one run, then the tracemalloc peak of a second run (tracing slows it)."""
    t = time.perf_counter()
    out = run()
    elapsed = time.perf_counter() - t
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, peak, out


def mixed_values(n: int, rng: np.random.Generator) -> pd.Series:
    stamps = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 86400 * 30, n), "s")
    kind = rng.integers(0, 6, n)
    out = np.empty(n, dtype=object)
    out[kind == 0] = stamps[kind == 0].strftime("%Y-%m-%dT%H:%M:%S+08:00")
    out[kind == 1] = (stamps[kind == 1] - pd.Timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out[kind == 2] = stamps[kind == 2].strftime("%Y/%m/%d %H:%M")
    out[kind == 3] = stamps[kind == 3].strftime("%Y年%m月%d日 %H时%M分")
    out[kind == 4] = stamps[kind == 4].strftime("%Y%m%d%H%M%S")
    serial = (stamps[kind == 5] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    out[kind == 5] = [f"{v:.6f}" for v in serial]
    return pd.Series(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 86400 * 30, args.n), "s")
    plain = pd.Series(stamps.strftime("%Y-%m-%d %H:%M:%S"))
    mixed = mixed_values(args.n, rng)

    print(f"{args.n:,} values")
    fmt = "%Y-%m-%d %H:%M:%S"
    for name, column, peer in (
        ("one format", plain, lambda c: pd.to_datetime(c, format=fmt)),
        ("mixed", mixed, lambda c: pd.to_datetime(c, format="mixed", utc=True, errors="coerce")),
    ):
        t_gg, m_gg, ours = measure(lambda c=column: gio.parse_times(c, errors="report"))
        bad = ours.unreadable.to_numpy()
        t_pd, m_pd, theirs = measure(lambda c=column, p=peer: p(c))
        print(
            f"times, {name:10s}: gridgeo {t_gg:6.2f} s ({m_gg:5.0f} MB, "
            f"{1 - bad.mean():.0%} read) | pandas {t_pd:6.2f} s ({m_pd:5.0f} MB, "
            f"{theirs.notna().mean():.0%} read) | ratio {t_gg / t_pd:.2f}"
        )

    table = pd.DataFrame(
        {
            "report_id": [f"R{i:08d}" for i in range(args.n)],
            "street_code": [f"{i % 20:03d}" for i in range(args.n)],
            "lng": rng.uniform(114.3, 114.5, args.n).round(6),
            "lat": rng.uniform(23.0, 23.2, args.n).round(6),
            "reported_at": plain,
            "kind": rng.choice(["事件", "部件"], args.n),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.csv"
        table.to_csv(path, index=False)
        t_gg, m_gg, _ = measure(lambda: gio.read_reports(path, time="reported_at"))
        t_pd, m_pd, _ = measure(lambda: pd.read_csv(path, parse_dates=["reported_at"]))
    print(
        f"read_reports CSV: gridgeo {t_gg:6.2f} s ({m_gg:5.0f} MB) | pandas.read_csv "
        f"{t_pd:6.2f} s ({m_pd:5.0f} MB) | ratio {t_gg / t_pd:.2f} (gridgeo also checks "
        "every coordinate, builds points and keeps street_code as text)"
    )


if __name__ == "__main__":
    main()
