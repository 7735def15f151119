"""The ``gridgeo`` command line (click): ``init``, ``cells``, ``grids``, ``assign``,
``hotspots``, ``map``, ``report``, ``run`` and ``demo``.

Every command takes files and writes files, prints every file it wrote, refuses to replace
existing outputs without ``--overwrite``, and on a user error exits with code 2 and one line
on stderr (``--debug`` shows the traceback). ``gridgeo COMMAND --help`` shows an example::

    $ gridgeo demo --out demo_out
    $ gridgeo run --profile city.toml --day 2026-03-02

Parts: ``_app`` (the group, shared options, error handling), ``_commands`` (the
subcommands), ``_jobs`` (the steps and the nightly/weekly jobs), ``_output`` (overwrite
checks, reproducible atomic writes, job folders, logging), ``_demo`` (the demo chain).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success, 2 on a user error (one line on stderr), 130 when interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    gridgeo, version 0.1.0
    0
    """
    from gridgeo.cli import _app, _batch, _commands, _fuse  # noqa: F401  (they register commands)

    return _app.run(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
