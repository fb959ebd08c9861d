"""Image sets and seeded batches: real shared CIFAR images, tiny CIFAR pickle folders, npz, digits."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from zcnas.data import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_MEAN,
    Batch,
    ImageSet,
    get_batch,
    list_datasets,
    load_images,
)
from zcnas.errors import DataError, InputError, UnknownNameError


# ---- helpers: tiny folders in the real CIFAR python-pickle format ----------------------------------
def _rows(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)


def _dump(path: Path, obj: object) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def make_cifar10(root: Path, n_per_batch: int = 12, n_batches: int = 5, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, n_batches + 1):
        _dump(folder / f"data_batch_{i}", {b"batch_label": b"x", b"data": _rows(rng, n_per_batch),
                                           b"labels": [int(v) for v in rng.integers(0, 10, n_per_batch)]})
    _dump(folder / "test_batch", {b"data": _rows(rng, 10), b"labels": list(range(10))})
    _dump(folder / "batches.meta", {b"label_names": [f"c{i}".encode() for i in range(10)]})
    return folder


def make_cifar100(root: Path, n: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        fine = [int(v) for v in rng.integers(0, 100, n)]
        coarse = [int(v) for v in rng.integers(0, 20, n)]
        _dump(folder / split, {b"data": _rows(rng, n), b"fine_labels": fine, b"coarse_labels": coarse})
    _dump(folder / "meta", {b"fine_label_names": [f"f{i}".encode() for i in range(100)],
                            b"coarse_label_names": [f"k{i}".encode() for i in range(20)]})
    return folder


# ---- registry -----------------------------------------------------------------------------------
def test_registry_lists_datasets_and_suggests_names():
    assert {"cifar10", "cifar100", "npz", "digits"} <= set(list_datasets())
    assert list_datasets("cifar*") == ["cifar10", "cifar100"]
    with pytest.raises(UnknownNameError, match="Did you mean 'cifar10'"):
        load_images("cifar01")


# ---- CIFAR pickle folders -----------------------------------------------------------------------
def test_cifar10_pickle_folder_reads_images_channel_last(tmp_path):
    folder = make_cifar10(tmp_path)
    train = load_images("cifar10", data_dir=tmp_path, split="train")  # parent folder accepted
    assert train.x.shape == (60, 32, 32, 3) and train.x.dtype == np.uint8
    assert train.y.dtype == np.int64 and train.num_classes == 10
    assert train.mean == CIFAR10_MEAN and train.std == CIFAR10_STD
    assert train.class_names[:2] == ("c0", "c1")
    # pixel (r, c) of channel k is data[k*1024 + r*32 + c]: check the CHW -> HWC layout
    with open(folder / "data_batch_1", "rb") as fh:
        raw = pickle.load(fh, encoding="bytes")[b"data"]
    assert train.x[0, 3, 5, 2] == raw[0, 2 * 1024 + 3 * 32 + 5]
    test = load_images("cifar10", data_dir=folder, split="test")  # the folder itself accepted
    assert len(test) == 10 and list(test.y) == list(range(10))
    assert not train.x.flags.writeable


def test_cifar100_pickle_folder_fine_and_coarse(tmp_path):
    make_cifar100(tmp_path)
    fine = load_images("cifar100", data_dir=tmp_path, split="test")
    coarse = load_images("cifar100", data_dir=tmp_path, split="test", label="coarse")
    assert fine.num_classes == 100 and coarse.num_classes == 20
    assert fine.mean == CIFAR100_MEAN and fine.class_names[5] == "f5" and coarse.class_names[5] == "k5"
    with pytest.raises(InputError, match="'fine' or 'coarse'"):
        load_images("cifar100", data_dir=tmp_path, label="medium")


def test_missing_and_empty_folders_name_the_path_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("ZCNAS_DATA", raising=False)
    with pytest.raises(DataError, match=r"No CIFAR-10 folder given.*cifar-10-python.tar.gz.*data_dir"):
        load_images("cifar10")
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match=r"'.*nope' does not exist; download the CIFAR-10"):
        load_images("cifar10", data_dir=missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"'.*empty' is empty; download"):
        load_images("cifar100", data_dir=empty)
    (empty / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=r"holds neither cifar-10-batches-py/.*found: readme.txt"):
        load_images("cifar10", data_dir=empty)


def test_malformed_pickles_are_clear_errors(tmp_path):
    folder = make_cifar10(tmp_path, n_batches=1)
    _dump(folder / "test_batch", {b"data": np.zeros((4, 1024), np.uint8), b"labels": [0, 1, 2, 3]})
    with pytest.raises(DataError, match=r"test_batch.*shape \(4, 1024\); expected \(N, 3072\)"):
        load_images("cifar10", data_dir=folder, split="test")
    _dump(folder / "test_batch", {b"data": _rows(np.random.default_rng(1), 3), b"labels": [0, 12, 3]})
    with pytest.raises(DataError, match=r"labels range over \[0, 12\]; expected 0 <= label < 10"):
        load_images("cifar10", data_dir=folder, split="test")
    (folder / "data_batch_1").write_bytes(b"\x80\x04truncated")
    with pytest.raises(DataError, match=r"data_batch_1.*truncated or not a CIFAR python pickle"):
        load_images("cifar10", data_dir=folder, split="train")


# ---- npz ----------------------------------------------------------------------------------------
def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def test_npz_uint8_and_float_images_and_custom_keys(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 16, 16, 3), dtype=np.uint8)
    y = np.arange(20) % 4
    ds = load_images("npz", data_dir=_npz(tmp_path / "a.npz", x=x, y=y))
    assert ds.num_classes == 4 and ds.x.shape == (20, 16, 16, 3)
    assert np.allclose(ds.mean, (x / 255.0).reshape(-1, 3).mean(0))
    f = load_images("npz", data_dir=_npz(tmp_path / "b.npz", images=x / 255.0, labels=y),
                    x_key="images", y_key="labels", num_classes=5)
    assert f.num_classes == 5 and np.array_equal(f.x, x)
    grey = load_images("npz", data_dir=_npz(tmp_path / "c.npz", x=x[..., :1], y=y))
    assert grey.x.shape == (20, 16, 16, 3)
    split = load_images("npz", data_dir=_npz(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:4],
                                             y_test=y[:4]), split="test")
    assert len(split) == 4


@pytest.mark.parametrize(
    "x, y, pattern",
    [
        (np.zeros((5, 32, 32), np.uint8), np.zeros(5, int), r"shape \(5, 32, 32\).*x\[\.\.\., None\]"),
        (np.zeros((5, 3, 32, 32), np.uint8), np.zeros(5, int), r"channel-first.*transpose\(0, 2, 3, 1\)"),
        (np.zeros((0, 32, 32, 3), np.uint8), np.zeros(0, int), r"holds no images"),
        (np.full((5, 8, 8, 3), np.nan, np.float32), np.zeros(5, int), r"5 image\(s\) contain NaN"),
        (np.full((5, 8, 8, 3), -1.0), np.zeros(5, int), r"range over \[-1, -1\]"),
        (np.zeros((5, 8, 8, 3), np.uint8), np.array([0, 1, 2, 3, -1]), r"labels range over \[-1, 3\]"),
        (np.zeros((5, 8, 8, 3), np.uint8), np.zeros(4, int), r"labels have shape \(4,\); expected \(5,\)"),
        (np.zeros((5, 8, 8, 3), np.uint8), np.full(5, 0.5), r"whole numbers"),
    ],
)
def test_npz_bad_arrays_raise_data_error_naming_the_file(tmp_path, x, y, pattern):
    path = _npz(tmp_path / "bad.npz", x=x, y=y)
    with pytest.raises(DataError, match=pattern) as info:
        load_images("npz", data_dir=path)
    assert "bad.npz" in str(info.value)


def test_npz_label_beyond_num_classes_and_missing_key(tmp_path):
    path = _npz(tmp_path / "a.npz", x=np.zeros((3, 8, 8, 3), np.uint8), y=np.array([0, 1, 7]))
    with pytest.raises(DataError, match=r"\[0, 7\]; expected 0 <= label < 5"):
        load_images("npz", data_dir=path, num_classes=5)
    with pytest.raises(DataError, match=r"no array 'imgs' \(it holds: x, y\)"):
        load_images("npz", data_dir=path, x_key="imgs")
    with pytest.raises(DataError, match="needs data_dir"):
        load_images("npz")
    with pytest.raises(InputError, match="does not take the option"):
        load_images("npz", data_dir=path, colour="blue")


# ---- digits (built in) --------------------------------------------------------------------------
def test_digits_is_a_real_32x32_rgb_set_with_a_fixed_split():
    train, test = load_images("digits", split="train"), load_images("digits", split="test")
    assert len(train) + len(test) == 1797 and 340 <= len(test) <= 380
    assert train.x.shape[1:] == (32, 32, 3) and train.num_classes == 10
    assert np.array_equal(train.x[..., 0], train.x[..., 2])
    assert (train.class_counts() > 100).all() and (test.class_counts() > 25).all()
    assert 0.1 < train.mean[0] < 0.5
    with pytest.raises(InputError, match="takes no data_dir"):
        load_images("digits", data_dir="/tmp")


# ---- batches ------------------------------------------------------------------------------------
def test_get_batch_is_seeded_normalised_and_frozen():
    b1 = get_batch("digits", batch_size=32, seed=3)
    b2 = get_batch("digits", batch_size=32, seed=3)
    b3 = get_batch("digits", batch_size=32, seed=4)
    assert isinstance(b1, Batch) and len(b1) == 32
    assert b1.indices == b2.indices and torch.equal(b1.inputs, b2.inputs) and b1.indices != b3.indices
    assert b1.inputs.shape == (32, 3, 32, 32) and b1.inputs.dtype == torch.float32
    assert b1.targets.dtype == torch.int64 and b1.num_classes == 10 and b1.dataset == "digits"
    ds = load_images("digits")
    i = b1.indices[0]
    expect = (ds.x[i, 7, 9, 1] / 255.0 - ds.mean[1]) / ds.std[1]
    assert b1.inputs[0, 1, 7, 9].item() == pytest.approx(expect, abs=1e-5)
    assert b1.targets[0].item() == ds.y[i]
    with pytest.raises(AttributeError):
        b1.seed = 5  # type: ignore[misc]


def test_balanced_sampling_equal_counts_and_clear_errors(tmp_path):
    b = get_batch("digits", batch_size=40, seed=0, sampling="balanced")
    assert torch.bincount(b.targets, minlength=10).tolist() == [4] * 10
    b = get_batch("digits", batch_size=43, seed=0, sampling="balanced")
    counts = torch.bincount(b.targets, minlength=10)
    assert counts.sum() == 43 and counts.max() - counts.min() == 1 and len(set(b.indices)) == 43
    with pytest.raises(InputError, match=r"batch_size >= num_classes \(10\).*got batch_size 5"):
        get_batch("digits", batch_size=5, sampling="balanced")
    x = np.zeros((12, 8, 8, 3), np.uint8)
    y = np.array([0] * 10 + [1, 1])
    ds = load_images("npz", data_dir=_npz(tmp_path / "skew.npz", x=x, y=y))
    with pytest.raises(InputError, match=r"needs 3 image\(s\) of class 1, which has 2"):
        get_batch(ds, batch_size=6, sampling="balanced")
    with pytest.raises(InputError, match="exceeds the 12 images"):
        get_batch(ds, batch_size=13)
    with pytest.raises(InputError, match="'sampling' parameter"):
        get_batch(ds, batch_size=2, sampling="stratified")
    with pytest.raises(InputError, match="'split' parameter"):
        load_images("digits", split="valid")


# ---- the real shared CIFAR images ---------------------------------------------------------------
@pytest.mark.benchdata
def test_shared_real_cifar10_npz_layout(bench_root):
    folder = bench_root / "images" / "cifar10-partial-real"
    train = load_images("cifar10", data_dir=folder, split="train")
    test = load_images("cifar10", data_dir=folder.parent.parent / "images" / "cifar10-partial-real",
                       split="test")
    assert train.x.shape == (5085, 32, 32, 3) and len(test) == 1017
    assert test.y[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # official test order
    assert train.class_names[0] == "airplane"
    means = train.x.reshape(-1, 3).mean(0)
    assert np.allclose(means, [125.3, 123.0, 113.9], atol=4)
    b = get_batch("cifar10", data_dir=folder, batch_size=100, seed=0, sampling="balanced")
    assert torch.bincount(b.targets).tolist() == [10] * 10
    assert b.inputs.mean().abs() < 0.3 and 0.7 < b.inputs.std() < 1.3


@pytest.mark.benchdata
def test_shared_real_cifar100_and_env_fallback(bench_root, monkeypatch):
    monkeypatch.setenv("ZCNAS_DATA", str(bench_root))
    ds = load_images("cifar100")
    assert isinstance(ds, ImageSet) and ds.x.shape == (744, 32, 32, 3) and ds.num_classes == 100
    assert ds.y[:10].tolist() == [19, 29, 0, 11, 1, 86, 90, 28, 23, 31]
    assert (ds.class_counts() >= 3).all()
    assert load_images("cifar100", label="coarse").num_classes == 20
    with pytest.raises(DataError, match="only CIFAR-100 training images"):
        load_images("cifar100", split="test")
    assert len(load_images("cifar10", split="test")) == 1017
