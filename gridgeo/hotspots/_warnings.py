"""Warning-rule evaluation and reason texts for :func:`gridgeo.hotspots.warnings` (private).

Inputs are validated by the public function. :data:`REASONS` holds the reason templates per
language (``"en"``, ``"zh"``); :func:`evaluate` applies the rules level by level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LEVEL_ORDER", "REASONS", "evaluate", "level_reasons"]

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
