"""Finding a font for Simplified Chinese text, for the HTML, the PDF and the figures.

WeasyPrint resolves ``font-family`` names through fontconfig without fetching anything, so the
report's CSS names font *families*; matplotlib gets the font *file*, registered explicitly with
``matplotlib.font_manager.fontManager.addfont`` (see ``survchurn.plotting._style``).

The search order is: an explicit ``font_path`` argument, the ``SURVCHURN_CJK_FONT`` environment
variable, fontconfig (``fc-list :lang=zh-cn``) preferring the families in
:data:`CJK_FAMILIES`, then well-known file names in the usual font folders (for systems without
fontconfig's command-line tools).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from survchurn.exceptions import ConfigError, DependencyError

__all__ = [
    "CJK_FAMILIES",
    "FontInfo",
    "css_font_stack",
    "find_cjk_font",
]

logger = logging.getLogger(__name__)

#: Preferred CJK families for Simplified Chinese, best first.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Noto Serif CJK SC",
)

# File names tried when fontconfig's tools are absent: (file name, family inside it).
_KNOWN_FILES: tuple[tuple[str, str], ...] = (
    ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("NotoSansCJKsc-Regular.otf", "Noto Sans CJK SC"),
    ("NotoSansSC-Regular.otf", "Noto Sans SC"),
    ("SourceHanSansSC-Regular.otf", "Source Han Sans SC"),
    ("SourceHanSans-Regular.ttc", "Source Han Sans SC"),
    ("wqy-zenhei.ttc", "WenQuanYi Zen Hei"),
    ("wqy-microhei.ttc", "WenQuanYi Micro Hei"),
    ("msyh.ttc", "Microsoft YaHei"),
    ("PingFang.ttc", "PingFang SC"),
    ("Hiragino Sans GB.ttc", "Hiragino Sans GB"),
    ("simhei.ttf", "SimHei"),
)

_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "~/Library/Fonts",
    "C:/Windows/Fonts",
)

#: The line printed when no CJK font exists.
INSTALL_HINT = (
    "install a Simplified Chinese font (Debian/Ubuntu: apt-get install fonts-noto-cjk; "
    "macOS: brew install --cask font-noto-sans-cjk-sc) or pass font_path= / set "
    "SURVCHURN_CJK_FONT to a .otf/.ttf/.ttc file"
)

_SAFE_FAMILY = re.compile(r"^[\w][\w .\-]*$")

# Latin text: fonts every Debian/macOS/Windows machine has, then the generic family.
_LATIN_STACK: tuple[str, ...] = ("Noto Sans", "DejaVu Sans", "Helvetica Neue", "Arial")


@dataclass(frozen=True)
class FontInfo:
    """A font found for the report.

    Parameters
    ----------
    family : str
        Family name as fontconfig and matplotlib know it, e.g. ``"Noto Sans CJK SC"``.
    path : pathlib.Path
        The font file (``.otf``, ``.ttf`` or ``.ttc``).
    """

    family: str
    path: Path


def _fc_list() -> list[tuple[str, Path]]:
    """(family, file) pairs of the Chinese-capable fonts fontconfig knows; empty without fc-list."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh-cn", "family", "file"],
            capture_output=True, text=True, timeout=20, check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):  # pragma: no cover - broken fontconfig
        return []
    pairs = []
    for line in out.splitlines():
        path, _, families = line.partition(":")
        for fam in families.split(","):
            fam = fam.strip()
            if fam:
                pairs.append((fam, Path(path.strip())))
    return pairs


def _family_of(path: Path) -> str:
    """The family name inside ``path``, preferring a Simplified Chinese face of a collection."""
    exe = shutil.which("fc-query")
    names: list[str] = []
    if exe is not None:
        out = subprocess.run(
            [exe, "-f", "%{family}\n", str(path)], capture_output=True, text=True,
            timeout=20, check=False,
        ).stdout
        for line in out.splitlines():
            names += [n.strip() for n in line.split(",") if n.strip()]
    if not names:
        from matplotlib import ft2font

        font = ft2font.FT2Font(str(path))
        names = [font.family_name]
        for i in range(1, font.num_faces):
            names.append(ft2font.FT2Font(str(path), face_index=i).family_name)
    for preferred in CJK_FAMILIES:
        if preferred in names:
            return preferred
    for name in names:
        if re.search(r"\b(SC|CN|GB|Hans)\b", name):
            return name
    return names[0]


def _from_path(font_path: str | os.PathLike[str], source: str) -> FontInfo:
    path = Path(font_path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"CJK font file {str(path)!r} (from {source}) does not exist; give the path of an "
            ".otf/.ttf/.ttc file, or unset it to search the system"
        )
    return FontInfo(family=_family_of(path), path=path.resolve())


@functools.lru_cache(maxsize=8)
def _search_system() -> FontInfo | None:
    pairs = _fc_list()
    for preferred in CJK_FAMILIES:
        for fam, path in pairs:
            if fam == preferred:
                return FontInfo(family=fam, path=path)
    for fam, path in pairs:  # any other font that covers Chinese
        if "CJK" in fam or re.search(r"\b(SC|CN|GB|Hans)\b", fam):
            return FontInfo(family=fam, path=path)
    for folder in _FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for name, fam in _KNOWN_FILES:
            for hit in root.rglob(name):
                return FontInfo(family=fam, path=hit)
    return None


def find_cjk_font(font_path: str | os.PathLike[str] | None = None) -> FontInfo:
    """Find a font that renders Simplified Chinese.

    Parameters
    ----------
    font_path : path-like, optional
        Use this font file. Otherwise the ``SURVCHURN_CJK_FONT`` environment variable, then
        the system's fonts are searched (see the module docstring).

    Returns
    -------
    FontInfo
        The family name and file.

    Raises
    ------
    ConfigError
        If a configured font file does not exist.
    DependencyError
        If no Chinese font is installed; the message says what to install.
    """
    if font_path is not None:
        return _from_path(font_path, "font_path")
    env = os.environ.get("SURVCHURN_CJK_FONT")
    if env:
        return _from_path(env, "SURVCHURN_CJK_FONT")
    found = _search_system()
    if found is None:
        raise DependencyError(f"No Chinese (CJK) font found for lang='zh': {INSTALL_HINT}.")
    logger.debug("CJK font: %s (%s)", found.family, found.path)
    return found


def _css_family(name: str) -> str:
    if not _SAFE_FAMILY.match(name):
        raise ConfigError(
            f"font family name {name!r} contains characters that cannot be used in CSS; "
            "use a font whose family name has only letters, digits, spaces, '.', '-' or '_'"
        )
    return f'"{name}"'


def css_font_stack(lang: str, font: FontInfo | None = None) -> str:
    """The CSS ``font-family`` value for a report in ``lang``.

    For ``lang="zh"`` the CJK family comes first (found with :func:`find_cjk_font` when
    ``font`` is not given), so both Latin and Chinese text use one consistent face.
    """
    families = list(_LATIN_STACK)
    if lang == "zh":
        cjk = font if font is not None else find_cjk_font()
        families = [cjk.family, *families]
    elif font is not None:
        families.append(font.family)
    return ", ".join([_css_family(f) for f in families] + ["sans-serif"])
