"""`python -m build` gives an sdist and a wheel that carry every runtime resource, and the wheel alone runs.

The sdist and the wheel are built from a copy of the checkout (the wheel from the sdist, as `python -m build`
does), with --no-isolation: setuptools, wheel and build come from the test extra. The wheel is then installed
with --no-deps into a fresh venv whose only link to the test venv is a .pth line naming its site-packages, so the
dependencies resolve but the editable install of this checkout (a .pth file there) is never read: the installed
commands can only use what the wheel carries.
"""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import workbench

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
DIST_NAME = "pg_review_workbench"
VERSION = workbench.__version__
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"
)


def package_files(package: Path, suffixes: tuple[str, ...] | None = None) -> set[str]:
    """Files of the `package` folder as wheel paths (workbench/...), optionally only with these suffixes."""
    out = set()
    for path in package.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or path.name.endswith(".tmp"):
            continue
        if suffixes is None or path.suffix in suffixes:
            out.add(path.relative_to(package.parent).as_posix())
    return out


def runtime_resources(package: Path) -> set[str]:
    """Every non-Python file the package needs at run time."""
    resources = {p for p in package_files(package) if not p.endswith((".py", ".pyc", ".pyi"))}
    assert "workbench/resources/demo/DEFECTS.md" in resources
    assert any(p.startswith("workbench/core/snapshot/sql/") for p in resources)
    assert any(p.startswith("workbench/resources/icons/") for p in resources)
    return resources


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    package: Path  # src/workbench of the copy that was built (the checkout may change meanwhile)

    @property
    def modules(self) -> set[str]:
        return package_files(self.package, (".py",))

    @property
    def resources(self) -> set[str]:
        return runtime_resources(self.package)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("build")
    tree = work / "checkout"
    shutil.copytree(ROOT, tree, ignore=_IGNORE)
    out = work / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Built(sdist, wheel, tree / "src" / "workbench")


def test_the_wheel_carries_every_module_and_resource(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    assert built.wheel.name == f"{DIST_NAME}-{VERSION}-py3-none-any.whl"
    missing = (built.modules | built.resources) - names
    assert not missing, sorted(missing)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for size in (16, 32, 48, 64, 128, 256):
        assert f"workbench/resources/icons/workbench-{size}.png" in names


def test_the_sdist_carries_the_resources_and_the_packaging(built: Built) -> None:
    prefix = f"{DIST_NAME}-{VERSION}/"
    with tarfile.open(built.sdist) as tar:
        names = {n.removeprefix(prefix) for n in tar.getnames()}
    expected = {f"src/{p}" for p in built.modules | built.resources}
    expected |= {
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "resources/icons/workbench.svg",
        "packaging/workbench.spec",
        "packaging/make-icons.py",
        "packaging/linux/io.github.pgreview.Workbench.desktop",
        "packaging/linux/io.github.pgreview.Workbench.metainfo.xml",
    }
    missing = expected - names
    assert not missing, sorted(missing)


def test_the_wheel_metadata_has_one_version_and_the_entry_point(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as whl:
        info = f"{DIST_NAME}-{VERSION}.dist-info"
        meta = email.parser.Parser().parsestr(whl.read(f"{info}/METADATA").decode())
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
    assert meta["Version"] == VERSION
    assert meta["License-Expression"] == "Apache-2.0"
    requires = " ".join(meta.get_all("Requires-Dist") or [])
    for dependency in ("PySide6-Essentials", "psycopg", "SQLAlchemy", "keyring", "platformdirs", "pgserver"):
        assert dependency in requires
    assert "workbench = workbench.cli.main:main" in entry_points


# --- the installed wheel ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    python: Path
    workbench: Path
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, env=self.env, cwd=self.cwd, timeout=timeout
        )


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index"]
    proc = subprocess.run([*pip, str(built.wheel)], capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The dependencies, as a plain path: .pth files there (the editable install of this checkout) are not read.
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        WORKBENCH_CONFIG_DIR=str(root / "config"),
        WORKBENCH_DATA_DIR=str(root / "data"),
        WORKBENCH_LOG_DIR=str(root / "logs"),
    )
    cwd = root / "cwd"
    cwd.mkdir()
    script = venv / ("Scripts/workbench.exe" if os.name == "nt" else "bin/workbench")
    yield Installed(python, script, env, cwd)


def test_the_installed_package_is_the_wheel_not_this_checkout(installed: Installed) -> None:
    code = "import json, sys, workbench\nprint(json.dumps({'file': workbench.__file__, 'path': sys.path}))\n"
    proc = installed.run(installed.python, "-c", code)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert Path(info["file"]).is_relative_to(installed.python.parent.parent)
    assert not [p for p in info["path"] if p and Path(p).resolve() == (ROOT / "src").resolve()]


def test_installed_workbench_runs_its_commands(installed: Installed) -> None:
    proc = installed.run(installed.workbench, "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"workbench {VERSION}"), proc.stderr

    proc = installed.run(installed.workbench, "checks", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    checks = json.loads(proc.stdout)
    assert len(checks) > 20 and all({"id", "level", "category"} <= set(c) for c in checks)


def test_installed_package_reads_every_resource_through_importlib(built: Built, installed: Installed) -> None:
    code = (
        "import json\n"
        "from importlib import resources\n"
        "root = resources.files('workbench')\n"
        "names = []\n"
        "def walk(node, prefix):\n"
        "    for child in node.iterdir():\n"
        "        if child.is_dir():\n"
        "            walk(child, prefix + child.name + '/')\n"
        "        elif not child.name.endswith(('.py', '.pyc')):\n"
        "            child.read_bytes()\n"
        "            names.append(prefix + child.name)\n"
        "walk(root, 'workbench/')\n"
        "from workbench.core.demo import resource_text\n"
        "assert 'CREATE' in resource_text('demo', 'schema.sql').upper()\n"
        "print(json.dumps(sorted(names)))\n"
    )
    proc = installed.run(installed.python, "-c", code)
    assert proc.returncode == 0, proc.stderr
    missing = built.resources - set(json.loads(proc.stdout))
    assert not missing, sorted(missing)


def test_installed_app_starts_offscreen_and_writes_a_screenshot(installed: Installed) -> None:
    shot = installed.cwd / "app.png"
    proc = installed.run(installed.workbench, "--screenshot", shot)
    assert proc.returncode == 0, proc.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_installed_doctor_reports_json(installed: Installed) -> None:
    proc = installed.run(installed.workbench, "doctor", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    by_topic = {c["topic"]: c for c in report["checks"]}
    assert by_topic["qt"]["status"] == "ok", by_topic["qt"]  # QT_QPA_PLATFORM=offscreen from the wheel's Qt probe
    assert by_topic["logs"]["details"]["path"].startswith(installed.env["WORKBENCH_LOG_DIR"])


@pytest.mark.slow
def test_installed_demo_runs_headless(installed: Installed) -> None:
    proc = installed.run(installed.workbench, "demo", "--headless", "--format", "json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["database"]["name"] == "workbench_demo"
    assert len(result["findings"]) > 10
