"""The ``gridgeo`` click group, the options every command shares, and error handling.

User errors (any :class:`gridgeo.errors.GridgeoError`, a click usage error, a missing or
unwritable file) end the process with exit code 2 and ONE line on stderr, ``gridgeo: error:
...``, no traceback; ``--debug`` lets the traceback through. An interrupt (Ctrl-C) exits 130.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from gridgeo import __version__
from gridgeo.cli._output import Settings, setup_logging
from gridgeo.errors import GridgeoError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="gridgeo")
def cli() -> None:
    """Grid-based city management (网格化城市管理): cells, grids, report assignment,
    hotspots, maps and coverage reports, from the shell.

    \b
    Start with a profile that describes your case export, then run the chain:
      gridgeo init --from-sample cases.csv      # writes gridgeo.toml, guesses the columns
      gridgeo run --profile gridgeo.toml --day 2026-03-02
      gridgeo run --profile gridgeo.toml --week 2026-W10
    or step by step: cells -> grids -> assign -> hotspots / map / report.
    Try it all on the bundled demo district:  gridgeo demo --out demo_out
    """


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --overwrite, --quiet, --verbose, --log and --debug; pass ``settings`` instead."""

    @click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
    @click.option(
        "--log",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also log every step (with times) to this file; for cron.",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Log each step on stderr.")
    @click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="No progress bars (off anyway when stdout is not a terminal) and no warnings; "
        "errors and the list of written files still show.",
    )
    @click.option("--overwrite", is_flag=True, help="Replace output files that exist.")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        debug: bool,
        log: Path | None,
        verbose: bool,
        quiet: bool,
        overwrite: bool,
        **kwargs: Any,
    ) -> Any:
        setup_logging(quiet=quiet, verbose=verbose, log=log)
        settings = Settings(quiet=quiet, overwrite=overwrite, debug=debug)
        return func(*args, settings=settings, **kwargs)

    return wrapper


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(prefix: str, message: str) -> int:
    click.echo(f"{prefix}: error: {_one_line(message)}", err=True)
    return EXIT_USER_ERROR


def run(argv: Sequence[str] | None = None) -> int:
    """Run :data:`cli` with ``argv``; turn user errors into one line and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:  # plain `gridgeo`: the overview, not an error
        click.echo(cli.get_help(click.Context(cli, info_name="gridgeo")))
        return 0
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="gridgeo", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("gridgeo: interrupted; files being written were removed.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as err:
        if debug:
            raise
        ctx = getattr(err, "ctx", None)
        prefix = ctx.command_path if ctx is not None else "gridgeo"
        return _fail(prefix, err.format_message())
    except (GridgeoError, OSError) as err:
        if debug:
            raise
        return _fail("gridgeo", str(err))
    return int(result) if isinstance(result, int) else 0
