"""The package as built and installed: every subpackage, the contract's packaged copies, and
a build (sdist, then the wheel from it) without a single setuptools warning.

``make wheel-test`` (``.ci/wheel-test``) goes further: it installs the wheel in a fresh
virtual environment outside the checkout and serves and calls the service from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from client.client import WSDL_PATH
from service import cli
from service.contract import packaged
from service.contract.operations import build_application
from service.contract.wsdl import render_wsdl
from tests.conftest import ROOT

REVIEWED = ROOT / "wsdl" / "service.wsdl"
COPIES = [ROOT / "service" / "contract" / "service.wsdl", ROOT / "client" / "service.wsdl"]
DATA_FILES = [
    "service/contract/service.wsdl",
    "client/service.wsdl",
    "client/soapui/soap-service-soapui-project.xml",
]


@pytest.mark.parametrize("copy", COPIES, ids=["service", "client"])
def test_packaged_copies_are_the_reviewed_contract(copy: Path) -> None:
    assert copy.is_file() and not copy.is_symlink()  # a symlink is a build's guess
    assert copy.read_bytes() == REVIEWED.read_bytes(), (
        f"{copy.relative_to(ROOT)} is not wsdl/service.wsdl: run 'make wsdl'"
    )


def test_the_packages_read_their_own_copies() -> None:
    assert packaged.CHECKOUT_WSDL == REVIEWED and packaged.in_checkout()
    assert packaged.checkout_copies() == COPIES
    assert packaged.wsdl_bytes() == REVIEWED.read_bytes()
    assert WSDL_PATH == COPIES[1]


def test_export_writes_every_copy_and_check_finds_a_stale_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = tmp_path / "wsdl" / "service.wsdl"
    reviewed.parent.mkdir()
    reviewed.write_bytes(b"<old/>")
    copies = [tmp_path / "service.wsdl", tmp_path / "client.wsdl"]
    monkeypatch.setattr(packaged, "CHECKOUT_WSDL", reviewed)
    monkeypatch.setattr(packaged, "checkout_copies", lambda: copies)
    assert cli.main(["wsdl", "export"]) == 0
    rendered = render_wsdl(build_application())
    assert [p.read_bytes() for p in (reviewed, *copies)] == [rendered] * 3
    assert cli.main(["wsdl", "check"]) == 0
    copies[1].write_bytes(rendered + b"\n")
    capsys.readouterr()
    assert cli.main(["wsdl", "check"]) == 1
    assert f"{copies[1]} is not a copy of {reviewed}" in capsys.readouterr().err


def test_installed_without_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(packaged, "CHECKOUT_WSDL", tmp_path / "absent" / "service.wsdl")
    assert cli.main(["wsdl", "check"]) == 0
    assert "the installed contract matches the models" in capsys.readouterr().err
    assert cli.main(["wsdl", "export"]) == 2  # nowhere to write without --output
    assert "give --output" in capsys.readouterr().err
    assert not (tmp_path / "absent").exists()


def test_package_discovery_finds_every_package() -> None:
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("service", "client")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert set(find_packages(str(ROOT), include=find["include"])) == on_disk


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``python -m build``: the sdist, then the wheel from the sdist; its output and dir."""
    out = tmp_path_factory.mktemp("dist")
    # PYTHONDONTWRITEBYTECODE makes distutils print "byte-compiling is disabled": not ours
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr, out


def test_build_prints_no_warning(built: tuple[str, Path]) -> None:
    output, _ = built
    assert [line for line in output.splitlines() if "warning" in line.lower()] == []


def test_wheel_and_sdist_hold_every_module_and_data_file(built: tuple[str, Path]) -> None:
    _, out = built
    modules = [
        path.relative_to(ROOT).as_posix()
        for top in ("service", "client")
        for path in (ROOT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert sorted(set(modules + DATA_FILES) - names) == []
        for copy in DATA_FILES[:2]:
            assert archive.read(copy) == REVIEWED.read_bytes(), copy
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if "/" in m.name}
    assert sorted(set(modules + DATA_FILES) - set(members)) == []
    assert all(members[name].isfile() for name in DATA_FILES)  # no symlink in the sdist
