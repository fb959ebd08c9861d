"""Candidate sets: a seeded sample, the whole space, or a file of architecture strings."""

from __future__ import annotations

import json
from pathlib import Path

from zcnas.arch import Architecture
from zcnas.errors import DataError, InputError
from zcnas.spaces import get_space
from zcnas.spaces.base import echo


def read_arch_file(path: str | Path, space_name: str | None = None) -> list[Architecture]:
    """Architectures from a text file: one string per line, JSON lines (a string, an object with an
    ``arch`` key, or the space's own JSON form such as NB101's ``{"matrix": ..., "ops": ...}``), or a
    CSV with an ``arch`` column. Errors name the line."""
    p = Path(path)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "not found"
        raise DataError(f"Architecture file {echo(str(p))} {what}; give a file with one string per line.")
    space = get_space(space_name)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{p}:{line}: not UTF-8 text (byte {exc.start}); give architecture strings, one per "
                         f"line, as UTF-8 text.") from None
    if "\x00" in text:
        raise InputError(f"{p}: holds NUL bytes (a binary file?); give architecture strings, one per line.")
    lines = text.splitlines()
    if lines and lines[0].strip().split(",")[0] in ("arch", "arch_str"):
        import pandas as pd

        df = pd.read_csv(p)
        col = "arch" if "arch" in df.columns else "arch_str"
        lines, start = [str(v) for v in df[col]], 2
    else:
        start = 1
    out = []
    for i, line in enumerate(lines, start=start):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s[0] in "{\"":
            try:
                obj = json.loads(s)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}:{i}: not valid JSON ({exc.msg}).") from None
            except RecursionError:
                raise InputError(f"{p}:{i}: JSON nested too deeply to be an architecture.") from None
            if isinstance(obj, dict) and "arch" not in obj:  # the space's own JSON form, e.g. NB101's
                try:                                             # {"matrix": ..., "ops": ...}
                    out.append(space.parse_json(obj))
                except InputError as exc:
                    raise InputError(f"{p}:{i}: a JSON object needs an 'arch' key or must be a {space.name} "
                                     f"architecture in JSON ({exc})") from None
                continue
            s = obj.get("arch") if isinstance(obj, dict) else obj
            if isinstance(s, dict):
                try:
                    out.append(space.parse_json(s))
                except InputError as exc:
                    raise InputError(f"{p}:{i}: {exc}") from None
                continue
            if not isinstance(s, str):
                raise InputError(f"{p}:{i}: JSON line must be a string or an object with an 'arch'.")
        try:
            out.append(space.parse(s))
        except InputError as exc:
            raise InputError(f"{p}:{i}: {exc}") from None
    if not out:
        raise DataError(f"Architecture file {str(p)!r} holds no architectures.")
    return out


def candidates(space_name: str | None = None, *, sample: int | None = None, all: bool = False,
               archs=None, archs_file: str | Path | None = None, seed: int = 0) -> list[Architecture]:
    """Exactly one of ``sample``, ``all``, ``archs`` or ``archs_file`` picks the candidates."""
    chosen = [sample is not None, bool(all), archs is not None, archs_file is not None]
    if sum(chosen) != 1:
        raise InputError("Choose the candidates with exactly one of sample=N, all=True, archs=[...] "
                         "or archs_file=PATH (CLI: --sample N | --all | --archs FILE).")
    space = get_space(space_name)
    if sample is not None:
        return space.sample(sample, seed=seed)
    if all:
        return list(space.enumerate())
    if archs is not None:
        return [space.coerce(a) for a in archs]
    return read_arch_file(archs_file, space_name)
