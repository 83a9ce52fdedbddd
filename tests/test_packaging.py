"""What an installed studio holds and how it finds its files.

The wheel is built once per test session from a copy of the checkout (no venv is made here:
``.ci/fresh_install.sh`` installs it with torch alone in a fresh one, outside the repository).
Its files are then run in place, from a folder outside the repository, to show that the
bundled MNIST, examples, icons and schema are found through the package, not the checkout.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: what the wheel is built from: everything pyproject.toml maps into it
SOURCES = ("pyproject.toml", "README.md", "cnnstudio", "resources", "projects")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:  # a copy: building writes build/ and *.egg-info beside the sources
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, source / name)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(out), str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("cnnstudio-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel's files as an installer lays them out (site-packages), outside the repository."""
    site = tmp_path_factory.mktemp("site-packages")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def run_installed(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------------- the wheel

def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "cnnstudio").rglob("*.py")
               if "__pycache__" not in path.parts}
    missing = folders - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml, or the wheel lacks them"
    assert {"cnnstudio.resources", "cnnstudio.projects"} <= listed


def test_the_wheel_holds_the_code_the_examples_and_every_resource(wheel):
    names = wheel_names(wheel)
    code = {path.relative_to(ROOT).as_posix() for path in (ROOT / "cnnstudio").rglob("*.py")
            if "__pycache__" not in path.parts}
    assert code <= names, sorted(code - names)[:5]
    examples = {f"cnnstudio/projects/{path.name}" for path in (ROOT / "projects").glob("*.cnnproj")}
    assert len(examples) >= 6 and examples <= names
    for needed in ("datasets/mnist/train-images-idx3-ubyte.gz", "datasets/mnist/train-labels-idx1-ubyte.gz",
                   "datasets/mnist/t10k-images-idx3-ubyte.gz", "datasets/mnist/t10k-labels-idx1-ubyte.gz",
                   "datasets/mnist/README.md", "schema/cnnproj-2.schema.json", "images/astronaut.png",
                   "icons/cnnstudio.svg", "icons/family-convolution.svg", "linux/cnnstudio.desktop"):
        assert f"cnnstudio/resources/{needed}" in names, needed
    assert not any("/screenshots/" in name for name in names)  # README's pictures stay in the repository


def test_the_wheel_declares_both_commands_and_every_runtime_dependency(wheel):
    with zipfile.ZipFile(wheel) as archive:
        info = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA")).rpartition("/")[0]
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{info}/entry_points.txt").decode())
        metadata = archive.read(f"{info}/METADATA").decode()
    assert dict(entry_points["console_scripts"]) == {"cnnstudio": "cnnstudio.cli:console_main"}
    assert dict(entry_points["gui_scripts"]) == {"cnnstudio-studio": "cnnstudio.ui.app:main"}
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ")]
    plain = {line.split(";")[0].split(">")[0].split("=")[0].split("!")[0].strip() for line in requires
             if "extra ==" not in line}
    assert {"torch", "numpy", "onnx", "onnxscript", "tensorboard", "h5py", "safetensors"} <= plain
    assert "onnxruntime" not in plain and "keras" not in plain  # only the tests need them


# ---------------------------------------------------------------------- installed, run from elsewhere

def test_an_installed_studio_finds_its_files_through_the_package(installed, tmp_path):
    probe = (
        "import importlib.resources as r, cnnstudio.paths as p\n"
        "from cnnstudio.data.builtin import MNIST_FOLDER, load_mnist\n"
        "package = r.files('cnnstudio')\n"
        "assert p.RESOURCES == package / 'resources' and p.EXAMPLE_PROJECTS == package / 'projects', p.RESOURCES\n"
        "assert MNIST_FOLDER.is_relative_to(package), MNIST_FOLDER\n"
        "print(len(load_mnist('test', subset=20)), len(list(p.EXAMPLE_PROJECTS.glob('*.cnnproj'))))\n"
        "print((p.RESOURCES / 'schema' / 'cnnproj-2.schema.json').is_file(), (p.RESOURCES / 'icons').is_dir())\n"
        "print(package)\n"
    )
    result = run_installed(installed, tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    sizes, files, package = result.stdout.splitlines()
    assert sizes == f"20 {len(list((ROOT / 'projects').glob('*.cnnproj')))}" and files == "True True"
    assert Path(package).is_relative_to(installed)


def test_an_installed_studio_answers_version_and_summary_from_any_folder(installed, tmp_path):
    from cnnstudio import __version__

    version = run_installed(installed, tmp_path, "-m", "cnnstudio", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"CNN Studio {__version__}"
    example = installed / "cnnstudio" / "projects" / "lecture_mnist.cnnproj"
    summary = run_installed(installed, tmp_path, "-m", "cnnstudio", "summary", str(example))
    assert summary.returncode == 0, summary.stderr
    assert "Total params: 93,322" in summary.stdout and "training with RMSprop" in summary.stdout


# ---------------------------------------------------------------------- the desktop entry

def test_the_desktop_entry_starts_the_gui_command_with_the_shipped_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "resources" / "linux" / "cnnstudio.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Name"] == "CNN Studio" and desktop["Terminal"] == "false"
    command, argument = desktop["Exec"].split()
    assert command in PYPROJECT["project"]["gui-scripts"] and argument == "%f"
    assert (ROOT / "resources" / "icons" / f"{desktop['Icon']}.svg").is_file()
    assert desktop["Categories"].endswith(";") and "Education" in desktop["Categories"].split(";")
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(ROOT / "resources" / "linux" / "cnnstudio.desktop")],
                                capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout
