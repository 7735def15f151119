"""A font with Chinese glyphs for matplotlib figures, found without touching global settings.

matplotlib only knows the fonts in its font cache, which is built once; a CJK font installed
afterwards (``apt-get install fonts-noto-cjk``) stays invisible and Chinese text is drawn as
boxes. :func:`cjk_font` looks in the cache first and, when nothing there has Chinese glyphs,
scans the system font folders (``matplotlib.font_manager.findSystemFonts``) and fontconfig
(``fc-list :lang=zh``), registers the fonts it finds with
``matplotlib.font_manager.fontManager.addfont`` and returns a family name. Registering a font
makes it available; it does not change ``rcParams``. Figures then use the font through
:func:`cjk_rc` inside ``matplotlib.rc_context`` (see :func:`cjk_context`) or through
:func:`font_properties` on single artists, so the user's own settings are never changed.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["PREFERRED", "cjk_context", "cjk_font", "cjk_rc", "font_properties", "has_cjk_glyphs"]

# Simplified Chinese faces first; Japanese/Traditional faces of the same families still draw
# every common hanzi.
PREFERRED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
_PROBE = "网格城管热点"
# file names of common CJK fonts, for folders fontconfig does not know
_FILE_HINTS = (
    "cjk",
    "sourcehan",
    "wqy",
    "wenquanyi",
    "msyh",
    "simhei",
    "simsun",
    "pingfang",
    "droidsansfallback",
    "notosanssc",
    "notoserifsc",
    "ukai",
    "uming",
)


def has_cjk_glyphs(path: str | Path, index: int = 0) -> bool:
    """True when face ``index`` of the font file draws the probe hanzi (网格城管热点)."""
    from matplotlib import ft2font

    try:
        try:
            font = ft2font.FT2Font(str(path), face_index=index)
        except TypeError:  # matplotlib < 3.10: first face only
            font = ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in _PROBE)


def _fc_list_files() -> list[str]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        done = subprocess.run(
            [exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":", 1)[0].strip() for line in done.stdout.splitlines() if line.strip()]


def _candidate_files() -> list[str]:
    """Font files that may hold Chinese glyphs: fontconfig's answer, then name hints."""
    from matplotlib import font_manager

    files = _fc_list_files()
    for path in font_manager.findSystemFonts(fontext="ttf"):
        name = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(hint in name for hint in _FILE_HINTS):
            files.append(path)
    return list(dict.fromkeys(files))


@functools.lru_cache(maxsize=4096)
def _glyphs_cached(path: str, index: int) -> bool:
    if Path(path).suffix.lower() in {".afm", ".pfb", ".pfa"}:
        return False
    return has_cjk_glyphs(path, index)


def _registered(*, any_family: bool) -> str | None:
    """The preferred registered family with Chinese glyphs, else (``any_family``) any other
    registered family that draws them (not a last-resort font with placeholder glyphs)."""
    from matplotlib import font_manager

    entries = font_manager.fontManager.ttflist
    by_name: dict[str, list[Any]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)

    def ok(entry: Any) -> bool:
        return _glyphs_cached(str(entry.fname), int(getattr(entry, "index", 0) or 0))

    for name in PREFERRED:
        if any(ok(e) for e in by_name.get(name, [])):
            return name
    if not any_family:
        return None
    others = sorted(
        n
        for n, group in by_name.items()
        if "last resort" not in n.lower() and any(ok(e) for e in group)
    )
    return others[0] if others else None


@functools.cache
def cjk_font() -> str | None:
    """Family name of an installed font with Chinese glyphs, or None (logged once).

    Looks in matplotlib's font cache, then scans the system for fonts installed after the
    cache was built and registers them (``fontManager.addfont``; no ``rcParams`` change).

    Returns
    -------
    str or None
        For example ``"Noto Sans CJK SC"``.

    Examples
    --------
    >>> name = cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    from matplotlib import font_manager

    name = _registered(any_family=False)
    if name is not None:
        return name
    known = {str(Path(e.fname)) for e in font_manager.fontManager.ttflist}
    added = 0
    for path in _candidate_files():
        if str(Path(path)) in known or not has_cjk_glyphs(path):
            continue
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError) as exc:
            logger.debug("cannot register font %s: %s", path, exc)
            continue
        added += 1
    if added:
        cache_clear = getattr(font_manager.fontManager, "_findfont_cached", None)
        if cache_clear is not None and hasattr(cache_clear, "cache_clear"):
            cache_clear.cache_clear()
        logger.info("registered %d CJK font file(s) missing from matplotlib's font cache", added)
    name = _registered(any_family=True)
    if name is None:
        logger.warning(
            "no CJK font found (install fonts-noto-cjk); figures use English labels and "
            "replace Chinese characters in your data with '?'."
        )
    return name


def cjk_rc() -> dict[str, Any]:
    """``rcParams`` for ``matplotlib.rc_context``: DejaVu Sans, then the CJK font if any.

    A list of concrete families, not "sans-serif": matplotlib falls back glyph by glyph
    only across the families named in ``font.family``.
    """
    name = cjk_font()
    return {
        "font.family": ["DejaVu Sans", *([name] if name else [])],
        "axes.unicode_minus": False,
    }


@contextmanager
def cjk_context() -> Iterator[str | None]:
    """Temporarily use the CJK font (yields its name, or None); global settings are restored.

    Create and save figures inside the block: matplotlib reads the font when a text is
    created and when a figure is drawn.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> before = list(mpl.rcParams["font.family"])
    >>> with cjk_context():
    ...     pass
    >>> list(mpl.rcParams["font.family"]) == before
    True
    """
    import matplotlib as mpl

    with mpl.rc_context(cjk_rc()):
        yield cjk_font()


def font_properties(*, size: float | None = None, weight: str = "normal") -> Any:
    """A ``FontProperties`` with the CJK font as fallback, for single artists (``fontproperties=``).

    Examples
    --------
    >>> font_properties(size=9).get_size()
    9.0
    """
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=cjk_rc()["font.family"], size=size, weight=weight)
