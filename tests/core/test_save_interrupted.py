"""Saves that are killed: the project file is always the old or the new project,
whole, and the temporary files a killed save leaves are removed by the next save
or open of that project (never while their writer lives).

A helper process imports the core once and forks one saver per trial (a fork is
quick, so many trials stay cheap); each saver writes two large projects in turn
until it is killed with SIGKILL after a random delay within a few save cycles."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cnnstudio.core.atomic_file import STALE_AFTER_SECONDS, remove_stale_temporaries, temporaries_of
from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project, load_project, save_project

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50
posix_only = pytest.mark.skipif(os.name != "posix", reason="fork and SIGKILL")

#: the helper: load the two projects once, then per line "go" fork a saver and print its pid,
#: per line "reap PID" wait for it; first it prints the seconds one save takes
FORK_SERVER = textwrap.dedent("""
    import os, sys, time
    from cnnstudio.core.project import load_project, save_project
    target, first, second = sys.argv[1:4]
    projects = [load_project(first), load_project(second)]
    save_project(projects[0], target)  # the first save also pays for imports
    start = time.perf_counter()
    save_project(projects[0], target)
    print(time.perf_counter() - start, flush=True)
    for line in sys.stdin:
        if line.startswith("go"):
            pid = os.fork()
            if pid == 0:
                while True:
                    for project in projects:
                        save_project(project, target)
            print(pid, flush=True)
        elif line.startswith("reap"):
            os.waitpid(int(line.split()[1]), 0)
            print("reaped", flush=True)
""")


def large_project(tag: str) -> Project:
    """Megabytes of text, so that a kill often lands in the middle of writing it."""
    network = sequential([("Input", {"shape": [1, 28, 28]}), ("Flatten", {}), ("Dense", {"units": 10})])
    return Project(network, name=tag, description=f"{tag} " + "lorem ipsum " * 200_000)


@posix_only
def test_killing_saves_at_random_moments_leaves_the_old_or_new_file_and_no_temporary(tmp_path):
    target = tmp_path / "big.cnnproj"
    versions = {}
    for tag in ("old", "new"):
        save_project(large_project(tag), tmp_path / f"{tag}.source")
        versions[tag] = (tmp_path / f"{tag}.source").read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER, str(target), str(tmp_path / "old.source"),
                               str(tmp_path / "new.source")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env, cwd=ROOT)
    rng = random.Random(12)
    seen, interrupted = set(), 0
    try:
        cycle = 2 * float(server.stdout.readline())  # one save of each project
        for _ in range(KILLS):
            server.stdin.write("go\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.uniform(0.0, min(2 * cycle, 0.3)))  # anywhere in the first four saves
            os.kill(pid, signal.SIGKILL)
            server.stdin.write(f"reap {pid}\n")
            server.stdin.flush()
            assert server.stdout.readline().strip() == "reaped"
            content = target.read_bytes()
            assert content in (versions["old"], versions["new"]), "the file is neither project, whole"
            seen.add(content)
            interrupted += bool(temporaries_of(target))
    finally:
        server.kill()
        server.wait()
    print(f"{KILLS} kills within {2 * cycle:.3f} s of a saver's start: {interrupted} left a temporary; "
          f"versions seen: {len(seen)}")

    save_project(load_project(target), target)
    assert temporaries_of(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.cnnproj", "new.source", "old.source"]


KILL_BEFORE_RENAME = textwrap.dedent("""
    import os, signal, sys
    from cnnstudio.core.network import sequential
    from cnnstudio.core.project import Project, save_project
    os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # dies with the new text written
    save_project(Project(sequential([("Input", {})]), name="unsaved"), sys.argv[1])
""")


def killed_writer(target: Path) -> Path:
    """Run a save that dies just before its rename; returns the temporary it leaves."""
    result = subprocess.run([sys.executable, "-c", KILL_BEFORE_RENAME, str(target)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr
    (temporary,) = temporaries_of(target)
    return temporary


@posix_only
@pytest.mark.parametrize("next_step", ["save", "open"])
def test_the_temporary_of_a_killed_save_is_removed_by_the_next_save_or_open(tmp_path, next_step):
    target = tmp_path / "p.cnnproj"
    save_project(large_project("old"), target)
    before = target.read_bytes()
    temporary = killed_writer(target)
    assert temporary.name.startswith(".p.cnnproj.") and f".{os.getpid()}." not in temporary.name
    assert target.read_bytes() == before

    if next_step == "save":
        save_project(large_project("new"), target)
    else:
        assert load_project(target).name == "old"
    assert not temporary.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.cnnproj"]


def fake_temporary(target: Path, middle: str, age_seconds: float = 0.0) -> Path:
    path = target.parent / f".{target.name}.{middle}.tmp"
    path.write_bytes(b"half a project")
    if age_seconds:
        then = time.time() - age_seconds
        os.utime(path, (then, then))
    return path


def this_host(tmp_path: Path) -> str:
    """The host part this machine writes, read from a real temporary name."""
    temporary = killed_writer(tmp_path / "probe")
    host = temporary.name[len(".probe."):].split(".")[0]
    temporary.unlink()
    return host


@posix_only
def test_temporaries_of_live_writers_other_hosts_and_other_files_are_kept(tmp_path):
    target = tmp_path / "p.cnnproj"
    target.write_bytes(b"{}")
    host = this_host(tmp_path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = fake_temporary(target, f"{host}.{sleeper.pid}.abcd1234")
        mine = fake_temporary(target, f"{host}.{os.getpid()}.abcd1234")
        elsewhere = fake_temporary(target, f"otherhost.{sleeper.pid + 1}.abcd1234")
        legacy = fake_temporary(target, "ab_cd123")
        others = [tmp_path / ".p.cnnproj.bak", tmp_path / "p.cnnproj.tmp",
                  fake_temporary(tmp_path / "p.cnnproj.old", f"{host}.999999.abcd1234"),
                  fake_temporary(target, "not.a.writer.name")]
        others[0].write_bytes(b"x")
        others[1].write_bytes(b"x")
        assert remove_stale_temporaries(target) == []
        assert all(p.exists() for p in [live, mine, elsewhere, legacy, *others])
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale_temporaries(target) == [live]  # its writer is gone now
    assert all(p.exists() for p in [mine, elsewhere, legacy, *others])


def test_temporaries_untouched_for_long_are_removed_whoever_wrote_them(tmp_path):
    target = tmp_path / "p.cnnproj"
    old = STALE_AFTER_SECONDS + 60
    stale = [fake_temporary(target, f"otherhost.{os.getpid()}.abcd1234", old), fake_temporary(target, "zz_zz999", old)]
    fresh = [fake_temporary(target, "otherhost.1.abcd1234"), fake_temporary(target, "zz_zz998")]
    folder = tmp_path / ".p.cnnproj.zz_zz997.tmp"  # a staging folder (ONNX export makes them): not ours
    folder.mkdir()
    os.utime(folder, (time.time() - old, time.time() - old))
    assert sorted(remove_stale_temporaries(target)) == sorted(stale)
    assert all(p.exists() for p in fresh) and folder.is_dir()


def test_cleaning_never_fails_a_save(tmp_path, monkeypatch):
    target = tmp_path / "p.cnnproj"
    stale = fake_temporary(target, "otherhost.1.abcd1234", STALE_AFTER_SECONDS + 60)

    def refuse(self, missing_ok=False):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "unlink", refuse)
    save_project(large_project("new"), target)
    assert stale.exists() and load_project(target).name == "new"
