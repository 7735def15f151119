"""``gridgeo fuse``: compare two grid systems (多网合一); write crosswalk, conflicts and a map."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd

from gridgeo.cli import _jobs
from gridgeo.cli._app import cli, common
from gridgeo.cli._commands import FILE, OUT_DIR, SYSTEM_HELP, _finish, _system, examples
from gridgeo.cli._output import Settings, Written, refuse_existing

_OUTPUTS = (
    "crosswalk.gpkg",
    "crosswalk.csv",
    "conflicts.gpkg",
    "conflicts.csv",
    "fusion_map.html",
)


def _system_layer(path: Path, system: str | None, what: str) -> gpd.GeoDataFrame:
    """A grid system from a file: a saved plan's ``grids`` layer, or the file's one layer."""
    import pyogrio

    layer = None
    if path.suffix.lower() == ".gpkg":
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        if "grids" in names and len(names) > 1:
            layer = "grids"
    return _jobs.read_layer(path, _system(system), what=what, layer=layer)


@cli.command(
    epilog=examples(
        "gridgeo fuse urban_grids.gpkg police_beats.geojson --crs-b gcj02 --out fusion",
        "gridgeo fuse plan.gpkg sanitation.shp --code-b 网格编号 --names 城管 环卫 --out fusion",
    ),
)
@click.argument("system_a", metavar="A", type=FILE)
@click.argument("system_b", metavar="B", type=FILE)
@click.option("--crs-a", help=f"Coordinates of A when the file does not say: {SYSTEM_HELP}.")
@click.option("--crs-b", help=f"Coordinates of B when the file does not say: {SYSTEM_HELP}.")
@click.option("--code-a", default="grid_code", show_default=True, help="A's grid code column.")
@click.option("--code-b", default="grid_code", show_default=True, help="B's grid code column.")
@click.option("--names", nargs=2, default=("A", "B"), show_default=True, help="Names of A and B.")
@click.option(
    "--min-share",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="A grid is in conflict when more than this share of it lies in another grid.",
)
@click.option("--out", type=OUT_DIR, default=Path("fusion"), show_default=True)
@common
def fuse(
    system_a: Path,
    system_b: Path,
    crs_a: str | None,
    crs_b: str | None,
    code_a: str,
    code_b: str,
    names: tuple[str, str],
    min_share: float,
    out: Path,
    settings: Settings,
) -> None:
    """Crosswalk and conflicts between two grid systems (multi-grid fusion, 多网合一).

    A and B are grid layers (GeoPackage, GeoJSON, Shapefile, GeoParquet; a saved plan's
    ``grids`` layer is used). Writes OUT/crosswalk.gpkg + .csv (shared area and each side's
    share for every pair of grids), OUT/conflicts.gpkg + .csv (grids split across several
    grids of the other system, ranked, with a reason) and OUT/fusion_map.html.
    """
    from gridgeo import fusion, maps

    refuse_existing([out / n for n in _OUTPUTS], overwrite=settings.overwrite)
    a = _system_layer(system_a, crs_a, "A")
    b = _system_layer(system_b, crs_b, "B")
    cw = fusion.crosswalk(a, b, a_code=code_a, b_code=code_b, names=names)
    out.mkdir(parents=True, exist_ok=True)
    paths = fusion.write(cw, out, min_share=min_share, a_code=code_a, b_code=code_b, names=names)
    written = Written()
    labels = {
        "crosswalk.gpkg": "crosswalk (GeoPackage)",
        "crosswalk.csv": "crosswalk (CSV)",
        "conflicts.gpkg": "conflicts (GeoPackage)",
        "conflicts.csv": "conflicts (CSV)",
    }
    for path in paths.values():
        written.add(labels.get(Path(path).name, Path(path).name), Path(path))
    found = cw.conflicts(min_share=min_share)
    m = maps.fusion_map(found, a, b, a_code=code_a, b_code=code_b, min_share=min_share)
    written.add("fusion map (HTML)", maps.save_map(m, out / "fusion_map.html"))
    _finish(
        "gridgeo fuse",
        written,
        [f"{len(cw.table)} overlapping pairs, {len(found.table)} grids in conflict"],
    )
