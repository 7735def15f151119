"""The ``gridgeo`` command line.

``gridgeo demo --out DIR`` runs the whole chain on the bundled demo district and prints every
file it wrote::

    $ gridgeo demo --out demo_out
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from gridgeo import __version__
from gridgeo.errors import GridgeoError

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridgeo",
        description="Grid-based city management: cells, grids, report assignment, hotspots, "
        "maps and coverage reports.",
    )
    parser.add_argument("--version", action="version", version=f"gridgeo {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the whole chain on the bundled demo district",
        description="Generate base cells and responsibility grids for the demo district, "
        "assign synthetic reports, find hotspots and write maps and a coverage report.",
    )
    demo.add_argument("--out", type=Path, required=True, help="output folder (created)")
    demo.add_argument("--reports", type=int, default=20_000, help="number of demo reports")
    demo.add_argument("--seed", type=int, default=0, help="random seed for the demo reports")
    demo.add_argument("--grids", type=int, default=40, help="number of responsibility grids")
    demo.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language")
    demo.add_argument(
        "--quiet", action="store_true", help="no progress bars; still lists written files"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success, 2 when gridgeo reports a problem with the input.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    gridgeo 0.1.0
    """
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "demo":
            from gridgeo.cli._demo import run_demo

            result = run_demo(
                args.out,
                n_reports=args.reports,
                seed=args.seed,
                n_grids=args.grids,
                lang=args.lang,
                progress=not args.quiet,
            )
            print(result.describe())
    except GridgeoError as err:
        print(f"gridgeo: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
