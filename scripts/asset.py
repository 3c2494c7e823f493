"""Build the Lambda code asset without Docker: our package plus the pinned wheels for
the function's platform (arm64) and Python version, as a directory and optionally a zip."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lambdas" / "responder"
REQUIREMENTS = ROOT / "lambdas" / "requirements.txt"
PLATFORM = "manylinux2014_aarch64"  # the function runs on arm64 (Graviton)
PYTHON_VERSION = "3.14"  # the function's runtime


def build(target: Path) -> Path:
    """Install the pinned dependencies for the Lambda platform into ``target`` and copy our code."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--implementation", "cp",
            "--platform", PLATFORM, "--python-version", PYTHON_VERSION,
            "--target", str(target), "-r", str(REQUIREMENTS),
        ],
        check=True,
    )  # fmt: skip
    shutil.copytree(PACKAGE, target / "responder", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def zip_dir(source: Path, archive: Path) -> int:
    """Zip ``source`` (deflate, no bytecode caches); return the archive size in bytes."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, path.relative_to(source))
    return archive.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=Path)
    parser.add_argument("--zip", type=Path, default=None)
    args = parser.parse_args()
    build(args.target)
    if args.zip:
        print(zip_dir(args.target, args.zip))


if __name__ == "__main__":
    main()
