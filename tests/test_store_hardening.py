"""A store that cannot be fooled (issue 16 item 2): planted symlinks and hard links, stores reached
through aliases, read-only files and folders, missing folders, temporary files of killed writers.
Each case is a one-line error that names the fix, or behaves as the docstring of the test says.
Only the public API is used, so these tests run against any version of the store."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from zcnas.cli import main
from zcnas.errors import StoreError
from zcnas.records import RecordStore


def rows(*archs: str, value: float = 1.0) -> list[dict]:
    return [dict(run_key="r", space="nb201", arch=a, proxy="naswot", dataset="cifar10", value=value) for a in archs]


def make_store(path: Path, *archs: str) -> Path:
    with RecordStore(path, "w") as s:
        s.append("scores", rows(*(archs or ("a",))))
    return path


def archs_in(path: Path) -> list[str]:
    with RecordStore(path, "r") as s:
        return sorted(s.frame("scores")["arch"])


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and len(msg) < 500, msg
    return msg


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---- planted links ---------------------------------------------------------------------------------
def test_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = tmp_path / "run.h5"
    os.symlink("victim.txt", f"{path}.lock")
    with pytest.raises(StoreError) as err:
        RecordStore(path, "a")
    assert "symbolic link" in one_line(err.value) and "rm " in str(err.value)
    assert victim.read_text() == "precious\n"
    assert os.path.islink(f"{path}.lock")


def test_hard_linked_lock_file_is_refused(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = tmp_path / "run.h5"
    os.link(victim, f"{path}.lock")
    with pytest.raises(StoreError, match="hard link"):
        RecordStore(path, "a")
    assert victim.read_text() == "precious\n"


def test_symlinked_journal_is_refused(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = make_store(tmp_path / "run.h5")
    os.unlink(f"{path}.journal")
    os.symlink(victim, f"{path}.journal")
    with pytest.raises(StoreError) as err:
        with RecordStore(path, "a") as s:
            s.append("scores", rows("b"))
    assert "symbolic link" in one_line(err.value)
    assert victim.read_text() == "precious\n"
    assert os.path.islink(f"{path}.journal")


def test_planted_temporary_file_symlink_is_not_written_through(tmp_path):
    """A writer's temporary file name is predictable (.<name>.tmp-<pid>): a symlink planted there is
    removed and replaced by a new file, never followed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = make_store(tmp_path / "run.h5")
    os.symlink(victim, tmp_path / f".run.h5.tmp-{os.getpid()}")
    os.symlink(victim, tmp_path / f".run.h5.journal.tmp-{os.getpid()}")
    with RecordStore(path, "a") as s:
        s.append("scores", rows("b"))
        s.compact()
    assert victim.read_text() == "precious\n"
    assert archs_in(path) == ["a", "b"]


# ---- aliases ---------------------------------------------------------------------------------------
def test_store_through_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    (tmp_path / "data").mkdir()
    target = make_store(tmp_path / "data" / "real.h5", "a")
    link = tmp_path / "link.h5"
    os.symlink(target, link)
    with RecordStore(link, "a") as s:
        s.append("scores", rows("b"))
        s.compact()
        s.append("scores", rows("c"))
    assert os.path.islink(link) and os.readlink(link) == str(target)
    assert archs_in(target) == ["a", "b", "c"]
    # sidecars live next to the target, not the link
    assert not Path(f"{link}.journal").exists() and Path(f"{target}.journal").exists()
    # a new store through a dangling link is created at the target
    dangling = tmp_path / "new-link.h5"
    os.symlink(tmp_path / "data" / "created.h5", dangling)
    with RecordStore(dangling, "a") as s:
        s.append("scores", rows("z"))
    assert os.path.islink(dangling) and archs_in(tmp_path / "data" / "created.h5") == ["z"]


@pytest.mark.parametrize("alias_kind", ["symlink", "dotdot", "symlinked-folder"])
def test_second_writer_through_another_alias_is_refused(tmp_path, alias_kind):
    (tmp_path / "d").mkdir()
    target = make_store(tmp_path / "d" / "s.h5")
    if alias_kind == "symlink":
        alias = tmp_path / "alias.h5"
        os.symlink(target, alias)
    elif alias_kind == "dotdot":
        alias = tmp_path / "d" / ".." / "d" / "s.h5"
    else:
        os.symlink(tmp_path / "d", tmp_path / "e")
        alias = tmp_path / "e" / "s.h5"
    with RecordStore(target, "a") as s:
        s.append("scores", rows("b"))
        with pytest.raises(StoreError) as err:
            RecordStore(alias, "a")
        assert f"being written by another process (pid {os.getpid()})" in one_line(err.value)
    with RecordStore(alias, "a") as s:  # once the first writer is gone the alias may write
        s.append("scores", rows("c"))
    assert archs_in(target) == ["a", "b", "c"]


# ---- read-only -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["a", "w"])
def test_read_only_store_is_never_replaced(tmp_path, mode):
    path = make_store(tmp_path / "ro.h5", "a")
    os.chmod(path, 0o444)
    before = (path.read_bytes(), os.stat(path).st_ino)
    with pytest.raises(StoreError) as err:
        RecordStore(path, mode)
    msg = one_line(err.value)
    assert "read-only" in msg and "chmod u+w" in msg
    assert (path.read_bytes(), os.stat(path).st_ino) == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert archs_in(path) == ["a"]  # reading is fine


def test_compaction_keeps_the_file_mode(tmp_path):
    path = make_store(tmp_path / "m.h5")
    os.chmod(path, 0o640)
    with RecordStore(path, "a") as s:
        s.append("scores", rows("b"))
        s.compact()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_store_in_read_only_folder_is_one_line_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    existing = make_store(folder / "s.h5")
    os.chmod(folder, 0o555)
    try:
        for target in (folder / "new.h5", existing):
            with pytest.raises(StoreError) as err:
                RecordStore(target, "a")
            assert "read-only" in one_line(err.value)
        assert sorted(os.listdir(folder)) == sorted(["s.h5", "s.h5.journal", "s.h5.lock"])
        assert archs_in(existing) == ["a"]
    finally:
        os.chmod(folder, 0o755)


def test_cli_compact_and_delete_on_read_only_store(tmp_path, capsys):
    path = make_store(tmp_path / "ro.h5", "a", "b")
    os.chmod(path, 0o444)
    before = path.read_bytes()
    assert main(["store", "compact", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only" in err and "Traceback" not in err
    assert main(["store", "delete", str(path), "--where", "arch=a"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert path.read_bytes() == before


# ---- missing folders and leftovers -----------------------------------------------------------------
def test_missing_folder_is_named_not_created(tmp_path, capsys):
    path = tmp_path / "new" / "dir" / "x.h5"
    with pytest.raises(StoreError) as err:
        RecordStore(path, "a")
    msg = one_line(err.value)
    assert str(tmp_path / "new" / "dir") in msg and "does not exist" in msg and "mkdir -p" in msg
    assert not (tmp_path / "new").exists()
    # maintenance commands never create a store either
    assert main(["store", "delete", str(tmp_path / "nope.h5"), "--where", "proxy=meco"]) == 1
    assert "No record store" in capsys.readouterr().err and not (tmp_path / "nope.h5").exists()


def test_temporary_files_of_dead_writers_are_removed_on_open(tmp_path):
    path = make_store(tmp_path / "x.h5")
    dead = dead_pid()
    stale = [tmp_path / f".x.h5.tmp-{dead}", tmp_path / f".x.h5.journal.tmp-{dead}",
             tmp_path / f".x.h5.migrate-{dead}"]
    for p in stale:
        p.write_bytes(b"half-written")
    alive = tmp_path / f".x.h5.tmp-{os.getppid()}"  # a live process: left alone
    alive.write_bytes(b"busy")
    other = tmp_path / f".y.h5.tmp-{dead}"  # another store's: left to it
    other.write_bytes(b"other")
    RecordStore(path, "r").close()  # readers remove nothing
    assert all(p.exists() for p in stale)
    with RecordStore(path, "a") as s:
        assert not any(p.exists() for p in stale)
        s.append("scores", rows("b"))
    assert alive.exists() and other.exists()
    assert archs_in(path) == ["a", "b"]


def test_store_path_that_is_a_folder(tmp_path):
    (tmp_path / "dir.h5").mkdir()
    for mode in ("r", "a"):
        with pytest.raises(StoreError) as err:
            RecordStore(tmp_path / "dir.h5", mode)
        assert "folder" in one_line(err.value)
