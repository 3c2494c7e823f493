"""Build the Lambda code asset without Docker: our package plus the pinned wheels for the
function's platform (arm64) and Python version, compiled to bytecode by that Python version.

Bytecode: the function's code directory is read-only, so Python cannot cache what it compiles
there, and without ``.pyc`` files in the asset every cold start compiles our package, pydantic
and Powertools again (a few hundred milliseconds). The asset carries ``.pyc`` files compiled by
the runtime's Python version with ``unchecked-hash`` invalidation (used as they are, whatever
the files' times in the zip). Where that Python version is not installed, the asset is built
without them and a line says so (the function still works, its cold starts are slower).

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


def runtime_python() -> str | None:
    """The interpreter of the function's Python version on this machine (pyenv or PATH), if any."""
    candidates = sorted((Path.home() / ".pyenv" / "versions").glob(f"{constants.PYTHON_VERSION}.*/bin/python"))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(f"python{constants.PYTHON_VERSION}")
    return found if found and "/.pyenv/shims/" not in found else None  # a shim may name no installed version


def build(target: Path) -> Path:
    """Fill ``target`` with the dependencies and our package, compiled, ready to zip."""
    shutil.copytree(
        _dependencies(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete", "__pycache__")
    )
    shutil.copytree(
        PACKAGE, target / "responder", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    python = runtime_python()
    if python is None:
        print(f"asset: no Python {constants.PYTHON_VERSION} here, the asset ships no bytecode (slower cold starts)")
        return target
    subprocess.run(  # noqa: S603 (the runtime's interpreter, fixed arguments)
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)],
        check=True,
    )
    return target


def zip_dir(source: Path, archive: Path) -> int:
    """Zip ``source`` (deflate; the runtime's bytecode included); return the archive size in bytes."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(source))
    return archive.stat().st_size


@jsii.implements(ILocalBundling)
class LocalBundling:
    """CDK local bundling: builds the asset in-process, so synth never needs Docker."""

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        build(Path(output_dir))
        return True
