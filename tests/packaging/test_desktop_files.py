"""The icon (SVG source, generated PNG sizes), the freedesktop .desktop file, the AppStream metainfo, the spec."""

from __future__ import annotations

import ast
import configparser
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import workbench

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.pgreview.Workbench"
LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
SVG = ROOT / "resources" / "icons" / "workbench.svg"
ICONS = ROOT / "src" / "workbench" / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_svg_source_is_square_svg() -> None:
    root = ET.parse(SVG).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"


@pytest.mark.parametrize("size", SIZES)
def test_every_png_size_is_committed_with_its_size(size: int) -> None:
    assert png_size(ICONS / f"workbench-{size}.png") == (size, size)


def test_make_icons_renders_the_svg_with_qtsvg(tmp_path: Path) -> None:
    script = ROOT / "packaging" / "make-icons.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--output", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    for size in SIZES:
        assert png_size(tmp_path / f"workbench-{size}.png") == (size, size)
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr


def test_the_desktop_entry_has_the_required_keys() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "PostgreSQL Review Workbench"
    assert entry["Exec"].split()[0] == "workbench"
    assert entry["Icon"] == APP_ID == DESKTOP.stem
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Database" in entry["Categories"].split(";")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_desktop_file_validate_accepts_it() -> None:
    proc = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_the_metainfo_names_the_app_and_the_release() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("metadata_license") == "CC0-1.0"
    license_ = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert root.findtext("project_license") == license_
    assert root.findtext("name") and root.findtext("summary")
    assert root.find("description/p") is not None
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id" and launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == "workbench"
    versions = [r.get("version") for r in root.findall("releases/release")]
    assert workbench.__version__ in versions


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream is not installed")
def test_appstreamcli_validates_the_metainfo() -> None:
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_pyinstaller_spec_collects_the_package_data_and_the_entry_point() -> None:
    spec = (ROOT / "packaging" / "workbench.spec").read_text(encoding="utf-8")
    ast.parse(spec)
    assert 'collect_data_files("workbench"' in spec
    assert 'packaging" / "entry.py' in spec
    assert "exclude_binaries=True" in spec  # one-folder
    assert (ROOT / "packaging" / "entry.py").is_file()


@pytest.mark.parametrize("script", ["packaging/build-linux.sh", "packaging/linux/install.sh"])
def test_the_shell_scripts_parse(script: str) -> None:
    path = ROOT / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
