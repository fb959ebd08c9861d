"""Hardening of zcnas.data (issue 16.1, 17.2): no code from data files, safe downloads, real data
one flag away, the built-in digits announced."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import re
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import zcnas.data as data
from zcnas.data import announce_builtin, download_dataset, load_batch_pickle, load_images
from zcnas.errors import DataError, InputError

ZCNAS = Path(__file__).resolve().parents[1] / "zcnas"


# ---- no code from data --------------------------------------------------------------------------
class _Evil:
    """A pickle that writes a file when unpickled (any callable global works the same way)."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


class _EvilOpen:
    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def _tiny_cifar(folder: Path) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"):
        with open(folder / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), b"labels": list(range(10))}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [f"c{i}".encode() for i in range(10)]}, fh)


@pytest.mark.parametrize("payload", [_Evil, _EvilOpen])
@pytest.mark.parametrize("where", ["meta", "batch"])
def test_crafted_cifar_pickle_never_runs_code(tmp_path, payload, where):
    folder = tmp_path / "cifar-10-batches-py"
    _tiny_cifar(folder)
    target = tmp_path / "pwned"
    evil = {b"label_names": [payload(target)]} if where == "meta" else {b"data": payload(target), b"labels": [0]}
    with open(folder / ("batches.meta" if where == "meta" else "test_batch"), "wb") as fh:
        pickle.dump(evil, fh)
    with pytest.raises(DataError) as info:
        load_images("cifar10", data_dir=tmp_path, split="test")
    assert not target.exists()
    msg = str(info.value)
    assert "\n" not in msg and "Refusing to read CIFAR batch" in msg and "may be crafted" in msg


def test_crafted_meta_refused_even_when_images_are_npz(tmp_path):
    """The shared layout: images from .npz files, class names from batches.meta."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "cifar10_test_batch_first1017.npz", x=rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8),
             y=np.arange(5))
    target = tmp_path / "pwned"
    with open(tmp_path / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [_Evil(target)]}, fh)
    with pytest.raises(DataError, match="names posix.system|names os.system"):
        load_images("cifar10", data_dir=tmp_path, split="test")
    assert not target.exists()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_numpy_batches_load_under_every_protocol(tmp_path, protocol):
    arr = np.arange(12, dtype=np.uint8).reshape(2, 6)
    p = tmp_path / "b"
    p.write_bytes(pickle.dumps({b"data": arr, "labels": [1, 2], b"name": "x", b"f": 1.5}, protocol=protocol))
    d = load_batch_pickle(p)
    assert np.array_equal(d["data"], arr) and d["labels"] == [1, 2] and d["f"] == 1.5


def test_batch_pickle_other_types_and_garbage(tmp_path):
    p = tmp_path / "b"
    p.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DataError, match="holds a list; expected a dict"):
        load_batch_pickle(p)
    p.write_bytes(pickle.dumps({"x": {1, 2}}, protocol=4))  # sets need the builtins.set global only at < 4
    assert load_batch_pickle(p)["x"] == {1, 2}
    p.write_bytes(pickle.dumps({"x": np.float64(1.0)}))  # a numpy scalar: not in a CIFAR batch
    with pytest.raises(DataError, match=r"names numpy\._core\.multiarray\.scalar"):
        load_batch_pickle(p)
    p.write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match="truncated or not a CIFAR python pickle") as info:
        load_batch_pickle(p)
    assert "\n" not in str(info.value)


def test_object_array_npz_is_refused_in_one_line(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([np.zeros((2, 2)), "a"], dtype=object), y=np.arange(2))
    with pytest.raises(DataError) as info:
        load_images("npz", data_dir=path)
    msg = str(info.value)
    assert "object array" in msg and "'x'" in msg and "\n" not in msg
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(DataError, match="single .npy array"):
        load_images("npz", data_dir=tmp_path / "one.npy")


_UNSAFE = re.compile(r"\b(pickle|cPickle|dill|cloudpickle)\.(load|loads|Unpickler)\s*\(")
_TORCH_LOAD = re.compile(r"\btorch\.load\s*\(")


def test_no_unrestricted_unpickling_in_the_package():
    """Grep-level rule: no pickle.load/loads/Unpickler( and no torch.load without weights_only=True in
    zcnas/ (the one allowed unpickler is data._BatchUnpickler, a subclass with a global allow-list)."""
    bad = []
    for f in sorted(ZCNAS.rglob("*.py")):
        text = f.read_text()
        for m in _UNSAFE.finditer(text):
            bad.append(f"{f.relative_to(ZCNAS)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}")
        for m in _TORCH_LOAD.finditer(text):
            call = text[m.start():text.find(")", m.end()) + 1]
            if "weights_only=True" not in call:
                bad.append(f"{f.relative_to(ZCNAS)}:{text.count(chr(10), 0, m.start()) + 1}: {call}")
    assert not bad, bad
    src = (ZCNAS / "data.py").read_text()
    assert "class _BatchUnpickler(pickle.Unpickler)" in src and "def find_class" in src


# ---- downloads ----------------------------------------------------------------------------------
def _archive(tmp: Path, folder: str, members: dict[str, bytes], *, extra=None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        d = tarfile.TarInfo(folder)
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
        for name, content in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        if extra is not None:
            extra(tar)
    return buf.getvalue()


def _cifar_members() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    out = {}
    for name in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"):
        out[name] = pickle.dumps({b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
                                  b"labels": list(range(10))}, protocol=2)
    out["batches.meta"] = pickle.dumps({b"label_names": [f"k{i}".encode() for i in range(10)]}, protocol=2)
    return out


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over a folder; yields (folder, base_url) and counts requests."""
    root = tmp_path / "www"
    root.mkdir()
    hits: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ZCNAS_CACHE_DIR", str(d))
    monkeypatch.delenv("ZCNAS_DATA", raising=False)
    return d


def test_download_checks_md5_unpacks_and_loads(server, cache, tmp_path, monkeypatch):
    root, base, hits = server
    blob = _archive(tmp_path, "cifar-10-batches-py", _cifar_members())
    (root / "c10.tar.gz").write_bytes(blob)
    md5 = hashlib.md5(blob).hexdigest()
    dest = tmp_path / "data"
    folder = download_dataset("cifar10", dest, url=f"{base}/c10.tar.gz", md5=md5)
    assert folder == dest / "cifar-10-batches-py" and len(hits) == 1
    assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-py"]  # no archive or temp left
    test = load_images("cifar10", data_dir=dest, split="test")
    assert len(test) == 10 and test.class_names[0] == "k0"
    assert download_dataset("cifar10", dest, url=f"{base}/c10.tar.gz", md5=md5) == folder
    assert len(hits) == 1  # complete: no second download
    # load_images(download=True) with no data_dir: into the cache folder, then found there by default
    monkeypatch.setitem(data.DOWNLOADS, "cifar10", data.Download(f"{base}/c10.tar.gz", md5, "cifar-10-batches-py",
                                                                  data.DOWNLOADS["cifar10"].markers))
    train = load_images("cifar10", split="train", download=True)
    assert len(train) == 50 and str(cache) in train.source
    assert data.default_data_dir() == cache / "datasets" and len(hits) == 2
    assert len(load_images("cifar10", split="test")) == 10  # no flag: the downloaded copy is used


def test_download_wrong_md5_leaves_nothing(server, cache, tmp_path):
    root, base, _ = server
    (root / "c10.tar.gz").write_bytes(_archive(tmp_path, "cifar-10-batches-py", _cifar_members()))
    dest = tmp_path / "data"
    with pytest.raises(DataError, match=r"Checksum mismatch for http://127\.0\.0\.1:\d+/c10\.tar\.gz: md5 \w+, "
                                        r"expected c58f30108f718f92721af3b95e74349a") as info:
        download_dataset("cifar10", dest, url=f"{base}/c10.tar.gz")  # official md5
    assert "\n" not in str(info.value) and list(dest.iterdir()) == []


@pytest.mark.parametrize("attack", ["traversal", "absolute", "symlink", "other_top"])
def test_download_refuses_unsafe_archives(server, cache, tmp_path, attack):
    root, base, _ = server

    def extra(tar):
        if attack == "symlink":
            info = tarfile.TarInfo("cifar-10-batches-py/link")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            name = {"traversal": "cifar-10-batches-py/../../escaped", "absolute": "/tmp/zcnas-escaped",
                    "other_top": "elsewhere/escaped"}[attack]
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))

    blob = _archive(tmp_path, "cifar-10-batches-py", _cifar_members(), extra=extra)
    (root / "a.tar.gz").write_bytes(blob)
    dest = tmp_path / "deep" / "data"
    with pytest.raises(DataError, match="refusing to unpack"):
        download_dataset("cifar10", dest, url=f"{base}/a.tar.gz", md5=hashlib.md5(blob).hexdigest())
    assert list(dest.iterdir()) == [] and not (tmp_path / "escaped").exists()


def test_download_errors_say_what_to_do(server, cache, tmp_path, monkeypatch):
    root, base, _ = server
    with pytest.raises(DataError, match=r"Cannot download .*/missing.tar.gz \(HTTPError.*--data-dir"):
        download_dataset("cifar100", tmp_path / "d", url=f"{base}/missing.tar.gz")
    with pytest.raises(InputError, match="http"):
        download_dataset("cifar100", tmp_path / "d", url="file:///etc/passwd")
    with pytest.raises(DataError, match="cannot be downloaded.*image-net.org"):
        download_dataset("imagenet16-120")
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("ZCNAS_DATA", str(shared))
    with pytest.raises(DataError, match="inside the shared benchmark folder"):
        download_dataset("cifar10", shared / "images")
    monkeypatch.delenv("ZCNAS_DATA")
    with pytest.raises(DataError) as info:
        load_images("cifar100")
    msg = str(info.value)
    for part in ("--download", "cifar-100-python.tar.gz", "--data-dir", "cifar-100-python/ (train, test, meta)"):
        assert part in msg, part


# ---- ImageNet16-120 -----------------------------------------------------------------------------
def test_imagenet16_pickles_first_120_classes(tmp_path):
    rng = np.random.default_rng(0)
    for name, labels in (("train_data_batch_1", [1, 120, 121, 5]), ("train_data_batch_2", [1000, 2]),
                         ("val_data", [3, 500, 120])):
        with open(tmp_path / name, "wb") as fh:
            pickle.dump({"data": rng.integers(0, 256, (len(labels), 768), dtype=np.uint8), "labels": labels,
                         "mean": np.zeros(768)}, fh, protocol=2)
    train = load_images("ImageNet16-120", data_dir=tmp_path, split="train")
    assert train.x.shape == (4, 16, 16, 3) and train.y.tolist() == [0, 119, 4, 1] and train.num_classes == 120
    test = load_images("imagenet16-120", data_dir=tmp_path, split="test")
    assert test.y.tolist() == [2, 119]
    with pytest.raises(DataError, match="No ImageNet16-120 folder given.*image-net.org.*--data-dir"):
        load_images("imagenet16-120")


# ---- the built-in digits ------------------------------------------------------------------------
def test_announce_builtin_warns_outside_the_demo(caplog):
    with caplog.at_level(logging.WARNING, logger="zcnas"):
        assert announce_builtin("digits", "demo") is False
        assert announce_builtin("cifar10", "rank") is False
        assert caplog.records == []
        assert announce_builtin("sklearn-digits", "rank") is True
    (rec,) = caplog.records
    assert rec.levelno == logging.WARNING and rec.name == "zcnas"
    assert rec.getMessage().startswith("rank uses the built-in 'digits'") and "--dataset cifar10" in rec.getMessage()
