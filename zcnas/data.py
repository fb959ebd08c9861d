"""Image sets and seeded batches for the proxies and for short training.

Datasets are registered by name (``list_datasets()``):

- ``cifar10`` / ``cifar100``: the python-pickle folders a user downloads from
  https://www.cs.toronto.edu/~kriz/cifar.html (``cifar-10-batches-py/`` with ``data_batch_1..5``,
  ``test_batch``, ``batches.meta``; ``cifar-100-python/`` with ``train``, ``test``, ``meta``). Pass
  the folder itself or its parent. The shared benchmark layout of real CIFAR images
  (``cifar10_train_batches_first1017_each.npz`` / ``cifar10_test_batch_first1017.npz``;
  ``cifar100_train_first744.npz``) is read too. Without ``data_dir`` they are looked for in the
  download folder (:func:`default_data_dir`), then in ``$ZCNAS_DATA/images/cifar10-partial-real``
  (``cifar100-partial-real``) when that variable is set. ``download=True`` (:func:`download_dataset`)
  fetches the official archive, checks its md5 and unpacks it safely.
- ``imagenet16-120``: the ImageNet 16x16 python-pickle batches (``train_data_batch_1..10``,
  ``val_data``; the ``test`` split is ``val_data``), first 120 classes as in NAS-Bench-201. Not
  downloadable (ImageNet needs an account); the error says where to request it.
- ``npz``: any ``.npz`` file with images ``x`` (N, H, W, C) uint8, or float in [0, 1] or [0, 255],
  and integer labels ``y``; key names are options (``x_key``, ``y_key``), and ``x_<split>`` /
  ``y_<split>`` are used when present.
- ``digits``: scikit-learn's 1,797 real 8x8 handwritten digits, resized to 32x32 RGB, 10 classes;
  the built-in default that needs no download (a fixed stratified 80/20 train/test split).

``load_images`` returns an :class:`ImageSet` (uint8 NHWC images, int64 labels, the dataset's
standard mean and std); ``get_batch`` draws a seeded random or class-balanced :class:`Batch` of
normalised float32 NCHW tensors. Arrays are read-only and loads are cached per file.

Batch files are python pickles: they are read with an unpickler that allows only dicts, lists,
bytes, str, numbers and numpy arrays (:func:`load_batch_pickle`), so a crafted file cannot run
code; ``.npz`` files are read with ``allow_pickle=False``. :func:`announce_builtin` warns when the
built-in digits are used for anything but the demo.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from zcnas.errors import DataError, InputError, check_int
from zcnas.paths import ENV_VAR
from zcnas.registry import Registry

log = logging.getLogger("zcnas")

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
#: ImageNet16 mean/std of NAS-Bench-201 (pixels / 255)
IMAGENET16_MEAN = (122.68 / 255, 116.66 / 255, 104.01 / 255)
IMAGENET16_STD = (63.22 / 255, 61.26 / 255, 65.09 / 255)
IMAGENET16_URL = "https://image-net.org/download-images.php"
#: environment variable naming the cache folder (default ``$XDG_CACHE_HOME/zcnas`` or ``~/.cache/zcnas``)
CACHE_ENV_VAR = "ZCNAS_CACHE_DIR"

SPLITS = ("train", "test")
SAMPLINGS = ("random", "balanced")


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A labelled image set: ``x`` uint8 (N, H, W, 3), ``y`` int64 (N,), both read-only."""

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    source: str
    class_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.y, minlength=self.num_classes)


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch for a proxy: normalised float32 NCHW ``inputs`` and int64 ``targets``."""

    inputs: Any  # torch.Tensor (N, 3, H, W) float32
    targets: Any  # torch.Tensor (N,) int64
    num_classes: int
    dataset: str
    indices: tuple[int, ...]  # positions of the images in the split they came from
    split: str = "train"
    seed: int = 0
    sampling: str = "random"

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class DatasetSpec:
    """How to load a registered dataset: ``loader(data_dir, split, **options) -> ImageSet``."""

    loader: Callable[..., ImageSet]
    num_classes: int | None
    needs_download: bool
    description: str


DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register_dataset(name: str, *, num_classes: int | None, needs_download: bool, description: str,
                     aliases: tuple[str, ...] = ()):
    """Decorator registering a loader ``f(data_dir, split, **options) -> ImageSet``."""

    def deco(fn: Callable[..., ImageSet]) -> Callable[..., ImageSet]:
        spec = DatasetSpec(fn, num_classes, needs_download, description)
        DATASETS.add(name, spec, aliases, num_classes=num_classes, needs_download=needs_download,
                     description=description)
        return fn

    return deco


def list_datasets(pattern: str = "*") -> list[str]:
    """Registered dataset names matching a glob pattern."""
    return DATASETS.names(pattern)


# ---- validation ----------------------------------------------------------------------------------
def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise InputError(f"The 'split' parameter must be one of {SPLITS}. Got {split!r} instead.")
    return split


def _as_uint8_images(x: np.ndarray, where: str) -> np.ndarray:
    """Validate (N, H, W, C) images and return them as uint8 with 3 channels."""
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise DataError(f"{where}: holds no images (shape {x.shape}); expected (N, H, W, 3) with N >= 1.")
    if x.ndim != 4:
        hint = " For grey images add a channel axis: x[..., None]." if x.ndim == 3 else ""
        raise DataError(f"{where}: images have shape {x.shape}; expected 4 axes (N, H, W, C) with C = 1 "
                        f"or 3.{hint}")
    if x.shape[-1] not in (1, 3):
        if x.shape[1] in (1, 3):
            raise DataError(f"{where}: images have shape {x.shape}, which looks channel-first (N, C, H, W); "
                            f"expected channel-last (N, H, W, C): use x.transpose(0, 2, 3, 1).")
        raise DataError(f"{where}: images have shape {x.shape}; expected (N, H, W, C) with C = 1 or 3.")
    if x.dtype == np.uint8:
        out = x
    elif np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).reshape(len(x), -1).any(axis=1).sum())
            raise DataError(f"{where}: {bad} image(s) contain NaN or infinite values; clean the array first.")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 255.0:
            raise DataError(f"{where}: float images range over [{lo:g}, {hi:g}]; expected raw pixels in "
                            f"[0, 1] or [0, 255] (unnormalised).")
        scale = 255.0 if hi <= 1.0 else 1.0
        out = np.clip(np.rint(x * scale), 0, 255).astype(np.uint8)
    elif np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{where}: integer images range over [{lo}, {hi}]; expected pixels in [0, 255].")
        out = x.astype(np.uint8)
    else:
        raise DataError(f"{where}: images have dtype {x.dtype}; expected uint8 or float.")
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return np.ascontiguousarray(out)


def _as_labels(y: np.ndarray, n: int, num_classes: int | None, where: str) -> tuple[np.ndarray, int]:
    """Validate integer labels in [0, num_classes); infer ``num_classes`` as max + 1 when None."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{where}: labels have shape {y.shape}; expected ({n},), one int per image.")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all() or not np.array_equal(y, np.rint(y)):
            raise DataError(f"{where}: labels must be whole numbers; got non-integer floats.")
    elif not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{where}: labels have dtype {y.dtype}; expected integers.")
    y = y.astype(np.int64)
    lo, hi = int(y.min()), int(y.max())
    if num_classes is None:
        num_classes = hi + 1
    if lo < 0 or hi >= num_classes:
        raise DataError(f"{where}: labels range over [{lo}, {hi}]; expected 0 <= label < {num_classes} "
                        f"(num_classes = {num_classes}). Check the label key or pass num_classes.")
    return y, num_classes


def _freeze(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _make_set(name: str, split: str, x: np.ndarray, y: np.ndarray, num_classes: int | None,
              mean: tuple[float, ...] | None, std: tuple[float, ...] | None, source: str,
              class_names: tuple[str, ...] = ()) -> ImageSet:
    where = f"{name} {split} images from {source!r}"
    xi = _as_uint8_images(x, where)
    yi, k = _as_labels(y, xi.shape[0], num_classes, where)
    if mean is None or std is None:
        f = xi.reshape(-1, 3).astype(np.float64) / 255.0
        mean = mean or tuple(float(v) for v in f.mean(axis=0))
        std = std or tuple(float(max(v, 1e-3)) for v in f.std(axis=0))
    return ImageSet(name, split, _freeze(xi), _freeze(yi), k, tuple(mean), tuple(std), source,  # type: ignore[arg-type]
                    tuple(class_names))


# ---- CIFAR ---------------------------------------------------------------------------------------
_C10_NPZ = ("cifar10_train_batches_first1017_each.npz", "cifar10_test_batch_first1017.npz")
_C100_NPZ = "cifar100_train_first744.npz"


def _default_dir(name: str, sub: str, url: str) -> Path:
    raw = os.environ.get(ENV_VAR)
    if raw:
        return Path(raw).expanduser() / "images" / sub
    key = "cifar10" if name == "CIFAR-10" else "cifar100"
    dl = DOWNLOADS[key]
    raise DataError(f"No {name} folder given: add --download (download=True) to fetch {url} (md5-checked) "
                    f"into {str(default_data_dir())!r}, or download and unpack it yourself and pass --data-dir "
                    f"(data_dir) DIR holding {dl.folder}/ ({', '.join(dl.markers)}), or set {ENV_VAR} to the "
                    f"benchmarks folder to use its real images in images/{sub}. The built-in 'digits' set "
                    f"needs no download.")


def _cifar_folder(data_dir: str | os.PathLike | None, name: str, sub: str, url: str, folder: str,
                  markers: tuple[str, ...]) -> Path:
    """The folder holding ``markers`` files: ``data_dir`` itself or ``data_dir/folder``."""
    root = Path(data_dir).expanduser() if data_dir is not None else _default_dir(name, sub, url)
    fix = (f"download the {name} python version from {url}, unpack it and pass --data-dir, or add "
           f"--download (download=True) to fetch it into that folder")
    if not root.exists():
        raise DataError(f"{name} folder {str(root)!r} does not exist; {fix} (the folder holding "
                        f"{folder}/ or the {folder}/ folder itself).")
    if not root.is_dir():
        raise DataError(f"{name} data_dir {str(root)!r} is a file; expected a folder: {fix}.")
    for cand in (root, root / folder):
        if cand.is_dir() and any((cand / m).exists() for m in markers):
            return cand
    contents = sorted(p.name for p in root.iterdir())
    if not contents:
        raise DataError(f"{name} folder {str(root)!r} is empty; {fix}.")
    shown = ", ".join(contents[:8]) + (", ..." if len(contents) > 8 else "")
    raise DataError(f"{name} folder {str(root)!r} holds neither {folder}/ nor any of {', '.join(markers)} "
                    f"(found: {shown}); {fix}.")


class _Refused(pickle.UnpicklingError):
    """A batch pickle asked for something a dataset batch never holds."""


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The only globals a CIFAR / ImageNet16 python batch may name: what numpy's own pickles of a
    plain array need (``_reconstruct`` + ``ndarray`` + ``dtype`` up to protocol 4, ``_frombuffer``
    at protocol 5), under numpy 1's (``numpy.core``) and numpy 2's (``numpy._core``) module names.
    Each name maps to the object itself: the module the pickle names is never imported. Python 3
    writes bytes at protocol 2 as ``_codecs.encode(text, "latin1")``: that one is served by
    :func:`_latin1_bytes`, which does only that conversion."""
    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    out: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for mod in ("numpy.core", "numpy._core"):
        out[(f"{mod}.multiarray", "_reconstruct")] = multiarray._reconstruct
        out[(f"{mod}.numeric", "_frombuffer")] = numeric._frombuffer
    out[("_codecs", "encode")] = _latin1_bytes
    return out


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles of bytes use it: str to bytes in latin-1, nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"it calls _codecs.encode with {type(text).__name__}, {encoding!r}, "
                                     f"which a dataset batch never does")
    return text.encode("latin-1")


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler for the python batches of CIFAR and ImageNet16: dicts, lists, bytes, str,
    numbers and numpy arrays only. Any other global (``os.system``, ``builtins.eval``, a class) is
    refused before it is looked up, so a crafted file cannot run code; persistent ids too."""

    _allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise _Refused(f"it names {module}.{name}, which a dataset batch never holds "
                                         f"(only dicts, lists, bytes, numbers and numpy arrays are "
                                         f"read)") from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("it holds a persistent id, which a dataset batch never holds")


def load_batch_pickle(path: str | os.PathLike, *, dataset: str = "CIFAR", fix: str = "download it again") -> dict:
    """Read a dataset's python-pickle batch file safely (see :class:`_BatchUnpickler`): a dict with
    str keys (bytes keys decoded). Anything else, or a file that is not such a pickle, is a
    one-line :class:`DataError`; code in the file never runs."""
    path = Path(path)
    what = f"{dataset} batch"
    try:
        with open(path, "rb") as fh:
            obj = _BatchUnpickler(fh, encoding="bytes").load()
    except _Refused as exc:
        raise DataError(f"Refusing to read {what} {str(path)!r}: {exc}; the file is not a dataset "
                        f"batch (it may be crafted to run code): {fix}.") from None
    except (pickle.UnpicklingError, OSError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError, RecursionError) as exc:
        raise DataError(f"Cannot read {what} {str(path)!r} ({type(exc).__name__}: {_short(exc)}); the file "
                        f"is truncated or not a {dataset} python pickle: {fix}.") from None
    if not isinstance(obj, dict):
        raise DataError(f"{what} {str(path)!r} holds a {type(obj).__name__}; expected a dict with "
                        f"b'data' and labels.")
    return {(k.decode("latin-1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _short(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one bounded line."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _unpickle(path: Path) -> dict:
    return load_batch_pickle(path, dataset="CIFAR",
                             fix="download the CIFAR python version again (see --download)")


def _pickle_images(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    d = _unpickle(path)
    if "data" not in d or label_key not in d:
        raise DataError(f"CIFAR batch {str(path)!r} has keys {sorted(d)}; expected 'data' and {label_key!r}.")
    data = np.asarray(d["data"])
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"CIFAR batch {str(path)!r}: 'data' has shape {data.shape}; expected (N, 3072) "
                        f"uint8 rows (3 x 32 x 32, channel-first).")
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(d[label_key])


def _names(meta: Path, key: str) -> tuple[str, ...]:
    if not meta.exists():
        return ()
    names = _unpickle(meta).get(key, [])
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _npz(path: Path) -> Any:
    """Open a ``.npz`` without pickles (``allow_pickle=False``): object arrays are refused."""
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"Cannot read {str(path)!r} ({type(exc).__name__}: {_short(exc)}); expected a numpy "
                        f".npz file of plain arrays.") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise DataError(f"{str(path)!r} is a single .npy array, not a .npz archive; save the images and "
                        f"labels with np.savez(path, x=..., y=...).")
    return z


def _npz_get(z: Any, key: str, path: Path) -> np.ndarray:
    if key not in z.files:
        raise DataError(f"{str(path)!r} has no array {key!r} (it holds: {', '.join(z.files)}).")
    try:
        return z[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataError(f"{str(path)!r}: array {key!r} is an object array, which would need pickle "
                            f"to load (refused: it can run code); save plain numeric arrays "
                            f"(uint8 images, int labels).") from None
        raise DataError(f"Cannot read array {key!r} of {str(path)!r} ({_short(exc)}).") from None
    except (OSError, EOFError, KeyError) as exc:  # a truncated or corrupt member
        raise DataError(f"Cannot read array {key!r} of {str(path)!r} ({type(exc).__name__}: {_short(exc)}); "
                        f"the file is truncated or corrupt.") from None


@register_dataset("cifar10", aliases=("cifar-10", "CIFAR10", "CIFAR-10"), num_classes=10, needs_download=True,
                  description="CIFAR-10 python-pickle folder (or the shared real-image npz files)")
def _load_cifar10(data_dir: str | os.PathLike | None, split: str) -> ImageSet:
    markers = ("data_batch_1", "test_batch", *_C10_NPZ)
    folder = _cifar_folder(data_dir, "CIFAR-10", "cifar10-partial-real", CIFAR10_URL,
                           "cifar-10-batches-py", markers)
    names = _names(folder / "batches.meta", "label_names")
    if (folder / _C10_NPZ[0]).exists() or (folder / _C10_NPZ[1]).exists():
        path = folder / (_C10_NPZ[0] if split == "train" else _C10_NPZ[1])
        if not path.exists():
            raise DataError(f"CIFAR-10 {split} split: {str(path)!r} is missing from {str(folder)!r}.")
        z = _npz(path)
        if split == "train":
            keys = sorted((k for k in z.files if k.startswith("data_batch_") and k.endswith("_x")),
                          key=lambda k: int(k.split("_")[2]))
            if not keys:
                raise DataError(f"{str(path)!r} holds no data_batch_<i>_x arrays "
                                f"(it holds: {', '.join(z.files)}).")
            x = np.concatenate([_npz_get(z, k, path) for k in keys])
            y = np.concatenate([_npz_get(z, k[:-2] + "_y", path) for k in keys])
        else:
            x, y = _npz_get(z, "x", path), _npz_get(z, "y", path)
        return _make_set("cifar10", split, x, y, 10, CIFAR10_MEAN, CIFAR10_STD, str(path), names)
    if split == "train":
        files = sorted(folder.glob("data_batch_*"), key=lambda p: p.name)
        if not files:
            raise DataError(f"CIFAR-10 folder {str(folder)!r} has no data_batch_* files; download the "
                            f"CIFAR-10 python version from {CIFAR10_URL} again.")
    else:
        files = [folder / "test_batch"]
        if not files[0].exists():
            raise DataError(f"CIFAR-10 folder {str(folder)!r} has no test_batch; download the CIFAR-10 "
                            f"python version from {CIFAR10_URL} again.")
    parts = [_pickle_images(f, "labels") for f in files]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([np.asarray(p[1]) for p in parts])
    return _make_set("cifar10", split, x, y, 10, CIFAR10_MEAN, CIFAR10_STD, str(folder), names)


@register_dataset("cifar100", aliases=("cifar-100", "CIFAR100", "CIFAR-100"), num_classes=100,
                  needs_download=True,
                  description="CIFAR-100 python-pickle folder (or the shared real-image npz file)")
def _load_cifar100(data_dir: str | os.PathLike | None, split: str, label: str = "fine") -> ImageSet:
    if label not in ("fine", "coarse"):
        raise InputError(f"The 'label' option of cifar100 must be 'fine' or 'coarse'. Got {label!r} instead.")
    k = 100 if label == "fine" else 20
    folder = _cifar_folder(data_dir, "CIFAR-100", "cifar100-partial-real", CIFAR100_URL,
                           "cifar-100-python", ("train", "test", _C100_NPZ))
    if (folder / _C100_NPZ).exists() and not (folder / "train").exists():
        path = folder / _C100_NPZ
        if split != "train":
            raise DataError(f"{str(path)!r} holds only CIFAR-100 training images (744 of them); there is no "
                            f"{split!r} split. Use split='train', or download CIFAR-100 from {CIFAR100_URL}.")
        z = _npz(path)
        return _make_set("cifar100", split, _npz_get(z, "x", path), _npz_get(z, label, path), k,
                         CIFAR100_MEAN, CIFAR100_STD, str(path))
    path = folder / split
    if not path.exists():
        raise DataError(f"CIFAR-100 folder {str(folder)!r} has no {split!r} file; download the CIFAR-100 "
                        f"python version from {CIFAR100_URL} again.")
    x, y = _pickle_images(path, f"{label}_labels")
    names = _names(folder / "meta", f"{label}_label_names")
    return _make_set("cifar100", split, x, y, k, CIFAR100_MEAN, CIFAR100_STD, str(path), names)


# ---- downloads ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Download:
    """Where a dataset's archive is (``url``, ``md5``) and what it unpacks to (``folder`` holding
    every file of ``markers``)."""

    url: str
    md5: str
    folder: str
    markers: tuple[str, ...]


#: datasets :func:`download_dataset` can fetch (the official python-pickle archives)
DOWNLOADS: dict[str, Download] = {
    "cifar10": Download(CIFAR10_URL, CIFAR10_MD5, "cifar-10-batches-py",
                        (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")),
    "cifar100": Download(CIFAR100_URL, CIFAR100_MD5, "cifar-100-python", ("train", "test", "meta")),
}


def default_data_dir() -> Path:
    """Where downloaded datasets go: ``$ZCNAS_CACHE_DIR/datasets``, else
    ``$XDG_CACHE_HOME/zcnas/datasets``, else ``~/.cache/zcnas/datasets`` (never the shared
    benchmark folder)."""
    raw = os.environ.get(CACHE_ENV_VAR)
    if raw:
        base = Path(raw).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "zcnas"
    return base / "datasets"


def _complete(folder: Path, dl: Download) -> bool:
    return folder.is_dir() and all((folder / m).is_file() for m in dl.markers)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def _fetch(url: str, dest: Path, md5: str, timeout_s: float, max_bytes: int) -> None:
    """Stream ``url`` into ``dest`` while hashing it; a wrong md5 or size deletes ``dest``."""
    import urllib.error
    import urllib.request

    digest = hashlib.md5(usedforsecurity=False)
    n = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(dest, "wb") as out:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                n += len(chunk)
                if n > max_bytes:
                    raise DataError(f"Download of {url} exceeds {max_bytes} bytes; it is not the expected "
                                    f"archive. Check the URL.")
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        dest.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DataError(f"Cannot download {url} ({type(exc).__name__}: {_short(reason)}); check the internet "
                        f"connection, or download it by hand, unpack it and pass --data-dir.") from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    got = digest.hexdigest()
    if got != md5.lower():
        dest.unlink(missing_ok=True)
        raise DataError(f"Checksum mismatch for {url}: md5 {got}, expected {md5} ({n} bytes); the download is "
                        f"corrupt or not the official archive. Try again, or download it by hand.")


def _safe_members(tar: tarfile.TarFile, top: str, archive: str) -> list[tarfile.TarInfo]:
    """Members of ``tar`` when every one is a plain file or folder under ``top/``; else an error."""
    members = []
    for m in tar.getmembers():
        parts = Path(m.name).parts
        if m.name.startswith(("/", "\\")) or ".." in parts or not parts or parts[0] != top:
            raise DataError(f"Archive {archive} holds {m.name!r}, outside {top}/; refusing to unpack it (it is "
                            f"not the official archive).")
        if not (m.isfile() or m.isdir()):
            raise DataError(f"Archive {archive} holds {m.name!r}, a link or special file; refusing to unpack "
                            f"it (it is not the official archive).")
        members.append(m)
    return members


def download_dataset(dataset: str, data_dir: str | os.PathLike | None = None, *, url: str | None = None,
                     md5: str | None = None, timeout_s: float = 60.0, max_bytes: int = 1 << 30) -> Path:
    """Fetch a dataset's official python archive, check its md5 and unpack it into ``data_dir``
    (default :func:`default_data_dir`); returns the unpacked folder (``cifar-10-batches-py`` or
    ``cifar-100-python``). A folder already complete is returned without a download.

    ``url`` and ``md5`` override the official ones (:data:`DOWNLOADS`), e.g. for a mirror. Only
    http(s) is fetched; the archive is unpacked with no links, special files or paths outside
    its folder (tarfile's ``data`` filter as well), into a temporary folder renamed into place,
    so an interrupted download leaves nothing half-written. Errors are one-line :class:`DataError`.
    """
    name = DATASETS.resolve(dataset)
    if name not in DOWNLOADS:
        how = _IMAGENET16_HOW if name == "imagenet16-120" else "pass --data-dir with the data"
        raise DataError(f"Dataset {name!r} cannot be downloaded by zcnas (only {', '.join(DOWNLOADS)} can): "
                        f"{how}.")
    spec = DOWNLOADS[name]
    url = url or spec.url
    md5 = md5 or spec.md5
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    shared = os.environ.get(ENV_VAR)
    if shared and _inside(root, Path(shared).expanduser()):
        raise DataError(f"Refusing to download into {str(root)!r}, inside the shared benchmark folder "
                        f"{ENV_VAR}={shared!r}; pass another --data-dir (default {str(default_data_dir())!r}).")
    for folder in (root, root / spec.folder):
        if _complete(folder, spec):
            return folder
    target = root / spec.folder
    if target.exists():
        raise DataError(f"{str(target)!r} exists but lacks some of {', '.join(spec.markers)}; remove it and "
                        f"download again.")
    if not url.lower().startswith(("http://", "https://")):
        raise InputError(f"The 'url' parameter of download_dataset must be an http(s) URL. Got {url!r} instead.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the data folder {str(root)!r} ({exc.strerror}); pass a writable "
                        f"--data-dir.") from None
    archive = root / f".{spec.folder}.tar.gz.part-{os.getpid()}"
    tmp = root / f".{spec.folder}.unpack-{os.getpid()}"
    log.info("downloading %s into %s", url, root)
    try:
        _fetch(url, archive, md5, timeout_s, max_bytes)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = _safe_members(tar, spec.folder, url)
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(tmp, members=members, **kwargs)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(f"Cannot unpack {url} ({type(exc).__name__}: {_short(exc)}); the archive is not "
                            f"a .tar.gz. Download it by hand, unpack it and pass --data-dir.") from None
        if not _complete(tmp / spec.folder, spec):
            raise DataError(f"The archive from {url} lacks some of {', '.join(spec.markers)} in "
                            f"{spec.folder}/; it is not the {name} python version.")
        os.replace(tmp / spec.folder, target)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("%s is in %s", name, target)
    return target


def _find_downloaded(name: str) -> Path | None:
    """The folder of ``name`` in the download cache, when a complete copy is there."""
    spec = DOWNLOADS.get(name)
    if spec is None:
        return None
    folder = default_data_dir() / spec.folder
    return folder if _complete(folder, spec) else None


# ---- ImageNet16-120 ------------------------------------------------------------------------------
_IMAGENET16_HOW = (f"ImageNet16 needs an ImageNet account: request 'Downsampled ImageNet 16x16' "
                   f"(Imagenet16_train.zip, Imagenet16_val.zip, python pickle version) at {IMAGENET16_URL}, "
                   f"unpack both into one folder and pass it as --data-dir (it then holds "
                   f"train_data_batch_1..10 and val_data)")


@register_dataset("imagenet16-120", aliases=("ImageNet16-120", "imagenet16", "ImageNet16"), num_classes=120,
                  needs_download=True,
                  description="ImageNet 16x16, first 120 classes (NAS-Bench-201); the python-pickle batches")
def _load_imagenet16(data_dir: str | os.PathLike | None, split: str, classes: int = 120) -> ImageSet:
    check_int("classes", classes, "the imagenet16-120 dataset", minimum=1)
    if data_dir is None:
        raise DataError(f"No ImageNet16-120 folder given. {_IMAGENET16_HOW}.")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise DataError(f"ImageNet16 folder {str(folder)!r} does not exist or is not a folder. {_IMAGENET16_HOW}.")
    if split == "train":
        files = sorted(folder.glob("train_data_batch_*"), key=lambda p: int(p.name.rsplit("_", 1)[-1])
                       if p.name.rsplit("_", 1)[-1].isdigit() else 0)
    else:
        files = [folder / "val_data"] if (folder / "val_data").is_file() else []
    if not files:
        want = "train_data_batch_1..10" if split == "train" else "val_data"
        raise DataError(f"ImageNet16 folder {str(folder)!r} has no {want}. {_IMAGENET16_HOW}.")
    xs, ys = [], []
    for f in files:
        d = load_batch_pickle(f, dataset="ImageNet16", fix=_IMAGENET16_HOW)
        if "data" not in d or "labels" not in d:
            raise DataError(f"ImageNet16 batch {str(f)!r} has keys {sorted(d)}; expected 'data' and 'labels'.")
        data, labels = np.asarray(d["data"]), np.asarray(d["labels"])
        if data.ndim != 2 or data.shape[1] != 768 or labels.shape != (data.shape[0],):
            raise DataError(f"ImageNet16 batch {str(f)!r}: 'data' has shape {data.shape} and 'labels' "
                            f"{labels.shape}; expected (N, 768) rows (3 x 16 x 16) and N labels.")
        keep = (labels >= 1) & (labels <= classes)  # labels are 1-based over 1,000 classes
        xs.append(data[keep].reshape(-1, 3, 16, 16).transpose(0, 2, 3, 1))
        ys.append(labels[keep].astype(np.int64) - 1)
    return _make_set("imagenet16-120", split, np.concatenate(xs), np.concatenate(ys), classes,
                     IMAGENET16_MEAN, IMAGENET16_STD, str(folder))


# ---- generic npz ---------------------------------------------------------------------------------
@register_dataset("npz", aliases=("numpy",), num_classes=None, needs_download=False,
                  description="any .npz with images x (N,H,W,C) and int labels y; mean/std from the data")
def _load_npz(data_dir: str | os.PathLike | None, split: str, x_key: str | None = None,
              y_key: str | None = None, num_classes: int | None = None,
              mean: tuple[float, float, float] | None = None,
              std: tuple[float, float, float] | None = None) -> ImageSet:
    if data_dir is None:
        raise DataError("The 'npz' dataset needs data_dir (--data-dir): the path of a .npz file with images "
                        "'x' (N, H, W, C) and labels 'y'.")
    path = Path(data_dir).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.npz"))
        if len(found) != 1:
            listed = ", ".join(f.name for f in found)
            what = f"{len(found)} .npz files ({listed})" if found else "no .npz file"
            raise DataError(f"Folder {str(path)!r} holds {what}; pass the path of one .npz file as data_dir.")
        path = found[0]
    if not path.exists():
        raise DataError(f"npz file {str(path)!r} does not exist; pass the path of a .npz file with images "
                        f"'x' (N, H, W, C) and labels 'y'.")
    z = _npz(path)

    def key(given: str | None, base: str) -> str:
        if given is not None:
            return given
        return f"{base}_{split}" if f"{base}_{split}" in z.files else base

    if num_classes is not None:
        check_int("num_classes", num_classes, "the npz dataset", minimum=1)
    return _make_set("npz", split, _npz_get(z, key(x_key, "x"), path), _npz_get(z, key(y_key, "y"), path),
                     num_classes, mean, std, str(path))


# ---- built-in digits -----------------------------------------------------------------------------
_DIGITS_TEST_FRACTION = 0.2
_DIGITS_SPLIT_SEED = 0


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All 1,797 digits as 32x32 RGB uint8, their labels, and the fixed test mask."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a core dependency
        raise DataError("The 'digits' dataset needs scikit-learn: pip install scikit-learn.") from exc
    import torch
    import torch.nn.functional as F

    d = load_digits()
    grey = torch.from_numpy(d.images.astype(np.float32) / 16.0)[:, None]  # (N,1,8,8) in [0,1]
    big = F.interpolate(grey, size=(32, 32), mode="bilinear", align_corners=False)
    x = np.clip(np.rint(big[:, 0].numpy() * 255.0), 0, 255).astype(np.uint8)
    x = np.repeat(x[..., None], 3, axis=-1)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(_DIGITS_SPLIT_SEED)
    test = np.zeros(len(y), dtype=bool)
    for c in range(10):  # stratified: the same fraction of each class goes to test
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, size=int(round(len(idx) * _DIGITS_TEST_FRACTION)), replace=False)] = True
    return x, y, test


@register_dataset("digits", aliases=("sklearn-digits",), num_classes=10, needs_download=False,
                  description="scikit-learn's real 8x8 handwritten digits as 32x32 RGB; no download")
def _load_digits(data_dir: str | os.PathLike | None, split: str) -> ImageSet:
    if data_dir is not None:
        raise InputError("The 'digits' dataset ships with scikit-learn and takes no data_dir; "
                         f"got {str(data_dir)!r}. Leave data_dir unset.")
    x, y, test = _digits_arrays()
    mask = test if split == "test" else ~test
    f = x[~test][..., 0].astype(np.float64) / 255.0  # statistics of the training split, grey -> 3 equal
    mean, std = (float(f.mean()),) * 3, (float(f.std()),) * 3
    return _make_set("digits", split, x[mask], y[mask], 10, mean, std, "sklearn.datasets.load_digits",
                     tuple(str(i) for i in range(10)))


# ---- public API ----------------------------------------------------------------------------------
def _stamp(data_dir: str | os.PathLike | None) -> tuple[str, float]:
    if data_dir is None:
        return ("", 0.0)
    p = Path(data_dir).expanduser()
    try:
        return (str(p.resolve()), p.stat().st_mtime)
    except OSError:
        return (str(p), -1.0)


@lru_cache(maxsize=8)
def _cached(name: str, stamp: tuple[str, float], env: str | None, split: str,
            options: tuple[tuple[str, Any], ...]) -> ImageSet:
    data_dir = stamp[0] or None
    return DATASETS.get(name).loader(data_dir, split, **dict(options))


def load_images(dataset: str = "digits", data_dir: str | os.PathLike | None = None, split: str = "train",
                *, download: bool = False, **options: Any) -> ImageSet:
    """Load a registered dataset's ``split`` (``"train"`` or ``"test"``) as an :class:`ImageSet`.

    ``options`` go to the loader (``label="coarse"`` for cifar100; ``x_key``, ``y_key``,
    ``num_classes``, ``mean``, ``std`` for npz). Raises :class:`DataError` for missing or malformed
    data and :class:`InputError` for bad parameters; an unknown name gets "did you mean".

    ``download=True`` fetches CIFAR-10/100 first when ``data_dir`` (default
    :func:`default_data_dir`) does not hold it (:func:`download_dataset`). Without ``data_dir``
    the data is looked for in the download folder, then in ``$ZCNAS_DATA/images``.
    """
    name = DATASETS.resolve(dataset)
    _check_split(split)
    if download:
        data_dir = download_dataset(name, data_dir)
    elif data_dir is None:
        data_dir = _find_downloaded(name)
    try:
        opts = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))
        hash(opts)
    except TypeError as exc:
        raise InputError(f"Dataset options must be plain values; got {options!r}.") from exc
    env = os.environ.get(ENV_VAR) if data_dir is None else None
    try:
        return _cached(name, _stamp(data_dir), env, split, opts)
    except TypeError as exc:  # an option the loader does not take
        if "unexpected keyword" in str(exc):
            msg = f"Dataset {name!r} does not take the option(s) {sorted(options)}: {exc}."
            raise InputError(msg) from exc
        raise


def _normalise(x: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> Any:
    import torch

    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return ((t - m) / s).contiguous()


def to_tensors(images: ImageSet, indices: np.ndarray | None = None) -> tuple[Any, Any]:
    """Normalised float32 NCHW inputs and int64 targets of ``images`` (or of the given rows)."""
    import torch

    idx = np.arange(len(images)) if indices is None else np.asarray(indices, dtype=np.int64)
    return _normalise(images.x[idx], images.mean, images.std), torch.from_numpy(images.y[idx].copy())


def sample_indices(images: ImageSet, batch_size: int, seed: int | np.random.Generator = 0,
                   sampling: str = "random") -> np.ndarray:
    """Seeded indices of a batch: ``random`` (without replacement) or ``balanced`` (equal per class;
    the remainder ``batch_size % num_classes`` goes one each to randomly chosen classes)."""
    check_int("batch_size", batch_size, "get_batch", minimum=1)
    if sampling not in SAMPLINGS:
        raise InputError(f"The 'sampling' parameter of get_batch must be one of {SAMPLINGS}. "
                         f"Got {sampling!r} instead.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n, k = len(images), images.num_classes
    if sampling == "random":
        if batch_size > n:
            raise InputError(f"batch_size {batch_size} exceeds the {n} images of {images.name} "
                             f"{images.split}; use batch_size <= {n}.")
        return np.sort(rng.choice(n, size=batch_size, replace=False))
    if batch_size < k:
        raise InputError(f"Balanced sampling needs batch_size >= num_classes ({k}) for {images.name}; "
                         f"got batch_size {batch_size}. Use batch_size >= {k} or sampling='random'.")
    per = np.full(k, batch_size // k)
    per[rng.choice(k, size=batch_size % k, replace=False)] += 1
    counts = images.class_counts()
    short = np.flatnonzero(counts < per)
    if short.size:
        c = int(short[0])
        raise InputError(f"Balanced sampling of {batch_size} images from {images.name} {images.split} needs "
                         f"{int(per[c])} image(s) of class {c}, which has {int(counts[c])} "
                         f"({short.size} class(es) short). Use a smaller batch_size or sampling='random'.")
    chosen = [rng.choice(np.flatnonzero(images.y == c), size=int(per[c]), replace=False) for c in range(k)]
    return rng.permutation(np.concatenate(chosen))


def get_batch(dataset: str | ImageSet = "digits", data_dir: str | os.PathLike | None = None,
              batch_size: int = 64, seed: int = 0, sampling: str = "random", split: str = "train",
              *, download: bool = False, **options: Any) -> Batch:
    """A seeded batch of normalised images: the same arguments always give the same batch.

    ``dataset`` is a registered name (see :func:`list_datasets`) or an :class:`ImageSet` already
    loaded. ``sampling="balanced"`` draws equal counts per class, as GraSP / zero-cost proxies do.
    ``download=True``: see :func:`load_images`.
    """
    if isinstance(dataset, ImageSet):
        images = dataset
    else:
        images = load_images(dataset, data_dir, split, download=download, **options)
    check_int("seed", seed, "get_batch", minimum=0)
    idx = sample_indices(images, batch_size, seed, sampling)
    inputs, targets = to_tensors(images, idx)
    return Batch(inputs, targets, images.num_classes, images.name, tuple(int(i) for i in idx),
                 images.split, seed, sampling)


#: the one purpose for which the built-in digits need no warning
DEMO_PURPOSE = "demo"


def announce_builtin(dataset: str | ImageSet, purpose: str) -> bool:
    """Warn on stderr (logger ``zcnas``) when the built-in ``digits`` images are used for
    ``purpose`` other than ``"demo"``: scores on 8x8 handwritten digits say little about CIFAR or
    ImageNet. Returns whether it warned; any other dataset is silent."""
    name = dataset.name if isinstance(dataset, ImageSet) else DATASETS.resolve(dataset)
    if name != "digits" or purpose == DEMO_PURPOSE:
        return False
    log.warning("%s uses the built-in 'digits' images (scikit-learn's 8x8 handwritten digits at 32x32), "
                "not a benchmark dataset; for real images pass --dataset cifar10 with --data-dir DIR or "
                "--download", purpose)
    return True


__all__ = ["Batch", "ImageSet", "DATASETS", "DatasetSpec", "get_batch", "list_datasets", "load_images",
           "register_dataset", "sample_indices", "to_tensors", "CIFAR10_MEAN", "CIFAR10_STD",
           "CIFAR100_MEAN", "CIFAR100_STD", "DOWNLOADS", "Download", "announce_builtin", "default_data_dir",
           "download_dataset", "load_batch_pickle"]
