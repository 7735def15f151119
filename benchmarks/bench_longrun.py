"""Benchmark: 10 million reports through read -> assign -> counts, chunked, in bounded memory.

Writes a report export (CSV, GCJ-02 lng/lat, text times, 0.5 % malformed coordinates, like
the demo reports) of ``--n`` rows in a temporary folder, plus one of its first ``--small``
rows, then runs, each in a fresh child process so that its peak RSS (``ru_maxrss``) is its
own:

* ``one pass``: ``read_reports`` -> ``assign`` -> ``hotspots.counts`` on the small file (the
  peer: what a script does today);
* ``chunked``: ``iter_reports`` -> ``assign.assign_chunks`` -> ``hotspots.count_chunks`` on
  the small file and on the big one.

Cells: the demo district's 100 m fishnet (1,651 cells) in 100 responsibility grids. The
chunked counts of the small file are checked equal to the one-pass counts.

    python benchmarks/bench_longrun.py                       # 10,000,000 rows, chunks of 500,000
    python benchmarks/bench_longrun.py --n 2000000 --small 500000 --chunksize 250000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import gridgeo as gg

COLUMNS = ["report_id", "lng", "lat", "reported_at", "category_code", "source", "severity"]
READ = {"crs": "gcj02", "time": "reported_at"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def write_reports(path: Path, n: int, seed: int, block: int = 1_000_000) -> None:
    """Write ``n`` rows built from a pool of demo reports, with new ids and jittered points."""
    pool = gg.datasets.demo_reports(20_000, seed=seed)[COLUMNS]
    pool["reported_at"] = pool["reported_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    lng = pd.to_numeric(pool["lng"], errors="coerce").to_numpy()
    lat = pd.to_numeric(pool["lat"], errors="coerce").to_numpy()
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, n, block):
            size = min(block, n - start)
            take = rng.integers(0, len(pool), size)
            part = pool.iloc[take].reset_index(drop=True)
            part["report_id"] = [f"R{i:09d}" for i in range(start, start + size)]
            good = np.isfinite(lng[take]) & (np.abs(lat[take]) <= 90) & (lng[take] > 100)
            jitter = rng.normal(0, 0.002, (size, 2))
            x = np.where(good, lng[take] + jitter[:, 0], np.nan)
            y = np.where(good, lat[take] + jitter[:, 1], np.nan)
            part.loc[good, "lng"] = np.round(x[good], 6)
            part.loc[good, "lat"] = np.round(y[good], 6)
            part.to_csv(handle, index=False, header=start == 0)


def make_plan() -> gg.grids.GridPlan:
    city = gg.datasets.demo_city()
    cells = gg.cells.code(gg.cells.fishnet(city.district, 100, nest=city.communities))
    return gg.grids.build(cells, n=100, progress=False)


def run_mode(mode: str, path: Path, chunksize: int, out: Path) -> None:
    """Child process: one pipeline; writes the per-cell counts and prints a JSON line."""
    plan = make_plan()
    import gc

    gc.collect()
    base = peak_rss_mb()
    t = time.perf_counter()
    if mode == "one":
        reports = gg.io.read_reports(path, **READ)
        hits = gg.assign(reports, plan, duplicates=False)
        del reports
        counted = gg.hotspots.counts(hits, plan.cells)
        statuses = hits.attrs["status_counts"]
        rows = len(hits)
    else:
        chunks = gg.io.iter_reports(path, chunksize=chunksize, **READ)
        hits = gg.assignment.assign_chunks(chunks, plan)
        counted = gg.hotspots.count_chunks(hits, plan.cells)
        statuses = counted.attrs["status_counts"]
        rows = sum(statuses.values())
    seconds = time.perf_counter() - t
    counted[["cell_code", "count"]].to_csv(out, index=False)
    print(
        json.dumps(
            {
                "mode": mode,
                "rows": rows,
                "seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
                "rss_before_mb": base,
                "statuses": statuses,
            }
        )
    )


def child(mode: str, path: Path, chunksize: int, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--file", str(path)]
    cmd += ["--chunksize", str(chunksize), "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{mode} on {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="rows of the big file")
    parser.add_argument("--small", type=int, default=1_000_000, help="rows of the small file")
    parser.add_argument("--chunksize", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=["one", "chunked"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_mode(args.child, args.file, args.chunksize, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="gridgeo-longrun-") as folder:
        tmp = Path(folder)
        big, small = tmp / "big.csv", tmp / "small.csv"
        t = time.perf_counter()
        write_reports(big, args.n, args.seed)
        with big.open("rb") as src, small.open("wb") as dst:
            for _ in range(args.small + 1):
                dst.write(src.readline())
        print(
            f"data: {args.n:,} rows, {big.stat().st_size / 1e9:.2f} GB CSV "
            f"({time.perf_counter() - t:.0f} s to write); small file {args.small:,} rows"
        )
        runs = [
            ("one pass", small, child("one", small, args.chunksize, tmp / "one.csv")),
            ("chunked", small, child("chunked", small, args.chunksize, tmp / "chunk_s.csv")),
            ("chunked", big, child("chunked", big, args.chunksize, tmp / "chunk_b.csv")),
        ]
        same = pd.read_csv(tmp / "one.csv").equals(pd.read_csv(tmp / "chunk_s.csv"))
        print(
            f"chunksize {args.chunksize:,}; chunked counts equal one pass on the small file: {same}"
        )
        print(f"{'pipeline':<10} {'rows':>12} {'time':>9} {'rows/s':>10} {'peak RSS':>10}")
        for name, _path, r in runs:
            rate = r["rows"] / r["seconds"]
            print(
                f"{name:<10} {r['rows']:>12,} {r['seconds']:>8.1f}s {rate:>10,.0f} "
                f"{r['peak_rss_mb']:>8,.0f}MB"
            )
        print("statuses (big file):", runs[-1][2]["statuses"])
        print(f"RSS before the pipeline (cells, imports): {runs[-1][2]['rss_before_mb']:,.0f} MB")
        if not same:
            raise SystemExit("chunked counts differ from one pass")


if __name__ == "__main__":
    main()
