"""Three-colour warnings: :class:`WarningRules`, :func:`warnings`, rule evaluation (private).

Part of :mod:`gridgeo.hotspots` (the public face). Inputs are validated by :func:`warnings`.
:data:`REASONS` holds the reason templates per language (``"en"``, ``"zh"``); :func:`evaluate`
applies the rules level by level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridgeo.errors import ColumnError

__all__ = ["LEVEL_ORDER", "REASONS", "WarningRules", "evaluate", "level_reasons", "warnings"]

#: levels from lowest to highest: a later level that matches overrides an earlier one
LEVEL_ORDER = ("blue", "yellow", "red")

REASONS = {
    "en": {
        "bin": "Gi* hot spot at {conf} % confidence (gi_bin {v})",
        "pattern": "{v}",
        "count": "{v} reports (threshold {t:g})",
        "quantile": "{v} reports, above the {q:g}th percentile ({t:g})",
        "z": "Gi* z = {v:.2f} >= {t:g}",
    },
    "zh": {
        "bin": "Gi* 热点，置信度 {conf}%（gi_bin {v}）",
        "pattern": "时空趋势：{v}",
        "count": "案件数 {v}（阈值 {t:g}）",
        "quantile": "案件数 {v}，高于第 {q:g} 百分位（{t:g}）",
        "z": "Gi* z 值 {v:.2f} ≥ {t:g}",
    },
}

_CONFIDENCE = {3: 99, 2: 95, 1: 90, -1: 90, -2: 95, -3: 99}


def level_reasons(
    df: pd.DataFrame, rules: Any, level: str, text: dict[str, str]
) -> list[list[str]]:
    """The reasons (possibly none) why each row of ``df`` matches the rules of ``level``."""
    n = len(df)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def add(mask: np.ndarray, fmt: Any) -> None:
        for i in np.flatnonzero(mask):
            reasons[i].append(fmt(i))

    conf = _CONFIDENCE
    if "gi_bin" in df and getattr(rules, f"{level}_bins"):
        b = df["gi_bin"].to_numpy()
        m = np.isin(b, getattr(rules, f"{level}_bins"))
        add(m, lambda i: text["bin"].format(conf=conf.get(int(b[i]), 0), v=int(b[i])))
    if "pattern" in df and getattr(rules, f"{level}_patterns"):
        pat = df["pattern"].astype("str").to_numpy()
        m = np.isin(pat, getattr(rules, f"{level}_patterns"))
        add(m, lambda i: text["pattern"].format(v=pat[i]))
    if "count" in df:
        c = df["count"].to_numpy(dtype=np.float64)
        thr = getattr(rules, f"{level}_count")
        if thr is not None:
            add(c >= thr, lambda i: text["count"].format(v=int(c[i]), t=thr))
        qv = getattr(rules, f"{level}_count_quantile")
        nz = c[c > 0]
        if qv is not None and len(nz):
            t_q = float(np.percentile(nz, qv))
            add(c > t_q, lambda i: text["quantile"].format(v=int(c[i]), q=qv, t=t_q))
    zt = getattr(rules, f"{level}_z")
    if "gi_z" in df and zt is not None:
        z = df["gi_z"].to_numpy(dtype=np.float64)
        add(np.nan_to_num(z, nan=-np.inf) >= zt, lambda i: text["z"].format(v=z[i], t=zt))
    return reasons


def evaluate(hot: pd.DataFrame, rules: Any, lang: str) -> tuple[np.ndarray, np.ndarray]:
    """``(level, reason)`` object arrays: the highest matching level and its joined reasons."""
    level = np.full(len(hot), "", dtype=object)
    reason = np.full(len(hot), "", dtype=object)
    for name in LEVEL_ORDER:
        found = level_reasons(hot, rules, name, REASONS[lang])
        for i, rs in enumerate(found):
            if rs:
                level[i] = name
                reason[i] = "; ".join(rs)
    return level, reason


@dataclass(frozen=True)
class WarningRules:
    """Rules for the three-colour warning (any matching rule raises that level).

    For each level: ``*_bins`` gi_bin values, ``*_patterns`` emerging patterns, ``*_count``
    an absolute count threshold (``count >= value``), ``*_count_quantile`` a percentile of the
    non-zero counts (``count >`` that percentile), ``*_z`` a gi_z threshold (``>=``). ``None``
    or an empty tuple disables a rule. Columns absent from the input are skipped.
    """

    red_bins: tuple[int, ...] = (3,)
    red_patterns: tuple[str, ...] = (
        "intensifying hot spot",
        "persistent hot spot",
        "new hot spot",
    )
    red_count: float | None = None
    red_count_quantile: float | None = None
    red_z: float | None = None
    yellow_bins: tuple[int, ...] = (2,)
    yellow_patterns: tuple[str, ...] = ("diminishing hot spot", "oscillating hot spot")
    yellow_count: float | None = None
    yellow_count_quantile: float | None = 99.0
    yellow_z: float | None = None
    blue_bins: tuple[int, ...] = (1,)
    blue_patterns: tuple[str, ...] = ("sporadic hot spot", "consecutive hot spot")
    blue_count: float | None = None
    blue_count_quantile: float | None = None
    blue_z: float | None = None


def warnings(
    hot: pd.DataFrame,
    *,
    rules: WarningRules | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Three-colour warning level per cell or grid, with the reasons.

    The highest level whose rules match wins (red > yellow > blue); ``warning_reason`` joins
    the reasons of that level with ``"; "``. Cells matching no rule get ``""`` in both.

    Parameters
    ----------
    hot : DataFrame
        Cells or grids with any of ``gi_bin``, ``gi_z``, ``count`` (from :func:`gistar` /
        :func:`counts`) and ``pattern`` (from :func:`emerging`).
    rules : WarningRules, optional
        Defaults: red = gi_bin 3 or an intensifying / persistent / new hot spot; yellow =
        gi_bin 2, a diminishing / oscillating hot spot, or a count above the 99th percentile
        of the non-zero counts; blue = gi_bin 1 or a sporadic / consecutive hot spot.
    lang : {"en", "zh"}
        Language of ``warning_reason``.

    Returns
    -------
    DataFrame
        A copy of ``hot`` with ``warning`` (``"red"``, ``"yellow"``, ``"blue"`` or ``""``) and
        ``warning_reason``.

    Raises
    ------
    ColumnError
        None of ``gi_bin``, ``gi_z``, ``count``, ``pattern`` is present.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gi_bin": [3, 1, 0], "count": [9, 2, 0]})
    >>> warnings(df, rules=WarningRules(yellow_count_quantile=None))["warning"].tolist()
    ['red', 'blue', '']
    """
    if not isinstance(hot, pd.DataFrame):
        msg = f"hot must be a DataFrame, got {type(hot).__name__}."
        raise TypeError(msg)
    if not {"gi_bin", "gi_z", "count", "pattern"} & set(hot.columns):
        msg = (
            "hot has none of the columns gi_bin, gi_z, count, pattern; pass the output of "
            "gistar(), counts() or emerging().cells."
        )
        raise ColumnError(msg)
    if lang not in REASONS:
        msg = f"lang must be 'en' or 'zh', got {lang!r}."
        raise ValueError(msg)
    level, reason = evaluate(hot, rules or WarningRules(), lang)
    out = hot.copy()
    out["warning"] = pd.array(level, dtype="str")
    out["warning_reason"] = pd.array(reason, dtype="str")
    return out
