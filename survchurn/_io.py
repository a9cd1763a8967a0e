"""Atomic file output and spreadsheet-safe CSV export."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

__all__ = ["atomic_write_bytes", "atomic_write_text", "spreadsheet_safe", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then rename.

    A crash leaves either the old file or the complete new one, never a half-written file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Text cells (and column names) starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return get a leading apostrophe (OWASP, CSV injection). Numbers are left alone, so a
    negative number stays a number.
    """
    out = frame.copy()
    out.columns = [_neutralise(c) for c in out.columns]
    out.index = out.index.map(_neutralise)
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
            dtype = out[col].dtype
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            out[col] = out[col].map(_neutralise)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], index: bool = False) -> Path:
    """Write ``frame`` as a spreadsheet-safe CSV, atomically, with a stable float format."""
    text = spreadsheet_safe(frame).to_csv(index=index, lineterminator="\n")
    return atomic_write_text(path, text)
