"""Image sets and seeded batches for the proxies and for short training.

Datasets are registered by name (``list_datasets()``):

- ``cifar10`` / ``cifar100``: the python-pickle folders a user downloads from
  https://www.cs.toronto.edu/~kriz/cifar.html (``cifar-10-batches-py/`` with ``data_batch_1..5``,
  ``test_batch``, ``batches.meta``; ``cifar-100-python/`` with ``train``, ``test``, ``meta``). Pass
  the folder itself or its parent. The shared benchmark layout of real CIFAR images
  (``cifar10_train_batches_first1017_each.npz`` / ``cifar10_test_batch_first1017.npz``;
  ``cifar100_train_first744.npz``) is read too. Without ``data_dir`` they fall back to
  ``$ZCNAS_DATA/images/cifar10-partial-real`` (``cifar100-partial-real``) when that variable is set.
- ``npz``: any ``.npz`` file with images ``x`` (N, H, W, C) uint8, or float in [0, 1] or [0, 255],
  and integer labels ``y``; key names are options (``x_key``, ``y_key``), and ``x_<split>`` /
  ``y_<split>`` are used when present.
- ``digits``: scikit-learn's 1,797 real 8x8 handwritten digits, resized to 32x32 RGB, 10 classes;
  the built-in default that needs no download (a fixed stratified 80/20 train/test split).

``load_images`` returns an :class:`ImageSet` (uint8 NHWC images, int64 labels, the dataset's
standard mean and std); ``get_batch`` draws a seeded random or class-balanced :class:`Batch` of
normalised float32 NCHW tensors. Arrays are read-only and loads are cached per file.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from zcnas.errors import DataError, InputError, check_int
from zcnas.paths import ENV_VAR
from zcnas.registry import Registry

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"

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
    raise DataError(f"No {name} folder given: download the {name} python version from {url}, unpack it "
                    f"and pass data_dir (--data-dir) pointing at it, or set {ENV_VAR} to the benchmarks "
                    f"folder to use its real images in images/{sub}. The built-in 'digits' set needs "
                    f"no download.")


def _cifar_folder(data_dir: str | os.PathLike | None, name: str, sub: str, url: str, folder: str,
                  markers: tuple[str, ...]) -> Path:
    """The folder holding ``markers`` files: ``data_dir`` itself or ``data_dir/folder``."""
    root = Path(data_dir).expanduser() if data_dir is not None else _default_dir(name, sub, url)
    fix = f"download the {name} python version from {url}, unpack it and pass --data-dir"
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


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            obj = pickle.load(fh, encoding="bytes")
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, MemoryError) as exc:
        raise DataError(f"Cannot read CIFAR batch {str(path)!r} ({type(exc).__name__}: {exc}); the file is "
                        f"truncated or not a CIFAR python pickle: download it again.") from exc
    if not isinstance(obj, dict):
        raise DataError(f"CIFAR batch {str(path)!r} holds a {type(obj).__name__}; expected a dict with "
                        f"b'data' and labels.")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in obj.items()}


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
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {str(path)!r} ({type(exc).__name__}: {exc}); expected a numpy .npz "
                        f"file.") from exc


def _npz_get(z: Any, key: str, path: Path) -> np.ndarray:
    if key not in z.files:
        raise DataError(f"{str(path)!r} has no array {key!r} (it holds: {', '.join(z.files)}).")
    return z[key]


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
            x = np.concatenate([z[k] for k in keys])
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
                **options: Any) -> ImageSet:
    """Load a registered dataset's ``split`` (``"train"`` or ``"test"``) as an :class:`ImageSet`.

    ``options`` go to the loader (``label="coarse"`` for cifar100; ``x_key``, ``y_key``,
    ``num_classes``, ``mean``, ``std`` for npz). Raises :class:`DataError` for missing or malformed
    data and :class:`InputError` for bad parameters; an unknown name gets "did you mean".
    """
    name = DATASETS.resolve(dataset)
    _check_split(split)
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
              **options: Any) -> Batch:
    """A seeded batch of normalised images: the same arguments always give the same batch.

    ``dataset`` is a registered name (see :func:`list_datasets`) or an :class:`ImageSet` already
    loaded. ``sampling="balanced"`` draws equal counts per class, as GraSP / zero-cost proxies do.
    """
    images = dataset if isinstance(dataset, ImageSet) else load_images(dataset, data_dir, split, **options)
    check_int("seed", seed, "get_batch", minimum=0)
    idx = sample_indices(images, batch_size, seed, sampling)
    inputs, targets = to_tensors(images, idx)
    return Batch(inputs, targets, images.num_classes, images.name, tuple(int(i) for i in idx),
                 images.split, seed, sampling)


__all__ = ["Batch", "ImageSet", "DATASETS", "DatasetSpec", "get_batch", "list_datasets", "load_images",
           "register_dataset", "sample_indices", "to_tensors", "CIFAR10_MEAN", "CIFAR10_STD",
           "CIFAR100_MEAN", "CIFAR100_STD"]
