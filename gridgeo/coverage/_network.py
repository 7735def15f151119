"""Walking distance along a street network, for the 15-minute life circle.

The street lines are noded (split wherever they cross or touch), every segment becomes an
undirected graph edge weighted by its length, and a multi-source Dijkstra
(``scipy.sparse.csgraph.dijkstra(min_only=True)``) from the service stations gives every node
its distance to the nearest station. An origin or a station off the network joins it at the
nearest graph node, and the straight-line hop to that node is added to the distance.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree


def network_distance(
    lines: np.ndarray, origins: np.ndarray, stations: np.ndarray, *, snap: float = 0.5
) -> np.ndarray:
    """Distance from each origin point to the nearest station along ``lines``.

    Parameters
    ----------
    lines : array of LineString/MultiLineString (metric CRS)
    origins, stations : arrays of Point (same CRS)
    snap : float
        Vertices closer than this (metres) are merged, so slightly misdrawn junctions connect.

    Returns
    -------
    numpy.ndarray
        Metres; ``inf`` where no station is reachable.
    """
    noded = shapely.node(shapely.union_all(shapely.line_merge(lines)))
    parts = shapely.get_parts(noded)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return np.full(len(origins), np.inf)
    # merge vertices within `snap` by rounding onto a grid of that size
    keys = np.round(coords / snap).astype(np.int64)
    _, node = np.unique(keys, axis=0, return_inverse=True)
    node = node.ravel()
    same_part = index[1:] == index[:-1]
    a, b = node[:-1][same_part], node[1:][same_part]
    length = np.hypot(*(coords[1:][same_part] - coords[:-1][same_part]).T)
    n = int(node.max()) + 1
    rows, cols, weights = _unique_edges(
        np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([length, length])
    )
    node_xy = np.zeros((n, 2))
    node_xy[node] = coords
    tree = cKDTree(node_xy)
    station_xy = shapely.get_coordinates(stations)
    origin_xy = shapely.get_coordinates(origins)
    s_hop, s_node = tree.query(station_xy)
    o_hop, o_node = tree.query(origin_xy)
    # a virtual source with one-way edges to every station's node, weighted by the station's
    # hop onto the network; one-way, so no path can shortcut through the virtual source
    virtual = n
    graph = coo_matrix(
        (
            np.concatenate([weights, s_hop + 1e-9]),
            (np.concatenate([rows, np.full(len(s_node), virtual)]), np.concatenate([cols, s_node])),
        ),
        shape=(n + 1, n + 1),
    ).tocsr()
    dist = dijkstra(graph, directed=True, indices=virtual)
    return dist[o_node] + o_hop


def straight_distance(origins: np.ndarray, stations: np.ndarray) -> np.ndarray:
    """Straight-line distance from each origin to the nearest station (metres)."""
    tree = cKDTree(shapely.get_coordinates(stations))
    dist, _ = tree.query(shapely.get_coordinates(origins))
    return dist


def _unique_edges(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop self-loops and keep the shortest of parallel edges (a sparse matrix would sum them)."""
    keep = rows != cols
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    order = np.lexsort((weights, cols, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first], cols[first], weights[first]
