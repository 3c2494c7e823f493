"""Build the Lambda code asset without Docker: our package plus the pinned wheels for the
function's platform (arm64) and Python version.

The wheels are installed once per requirements file into ``.build/`` and reused, so
repeated synths (and the infrastructure tests) do not download them again.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

from infra import constants

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lambdas" / "responder"
REQUIREMENTS = ROOT / "lambdas" / "requirements.txt"
CACHE = ROOT / ".build"


def _dependencies() -> Path:
    """The pinned dependencies installed for the Lambda platform (cached by content)."""
    key = hashlib.sha256(
        REQUIREMENTS.read_bytes() + f"{constants.PIP_PLATFORM}/{constants.PYTHON_VERSION}".encode()
    ).hexdigest()[:16]
    target = CACHE / f"deps-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(  # noqa: S603 (fixed arguments, our pinned requirements file)
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--implementation", "cp",
            "--platform", constants.PIP_PLATFORM, "--python-version", constants.PYTHON_VERSION,
            "--target", str(target), "-r", str(REQUIREMENTS),
        ],
        check=True,
    )  # fmt: skip
    (target / ".complete").touch()
    return target


def build(target: Path) -> Path:
    """Fill ``target`` with the dependencies and our package, ready to zip."""
    shutil.copytree(_dependencies(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    shutil.copytree(
        PACKAGE, target / "responder", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return target


def zip_dir(source: Path, archive: Path) -> int:
    """Zip ``source`` (deflate, no bytecode caches); return the archive size in bytes."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, path.relative_to(source))
    return archive.stat().st_size


@jsii.implements(ILocalBundling)
class LocalBundling:
    """CDK local bundling: builds the asset in-process, so synth never needs Docker."""

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        build(Path(output_dir))
        return True
