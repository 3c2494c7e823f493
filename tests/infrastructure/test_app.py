"""The app: cdk-nag packs enforced, one stack per Region, and a complete arm64 asset."""

from __future__ import annotations

import ast
import email.parser
import re
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra.app import build_app, regions_from

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}  # the Lambda Python runtime ships these


def test_nag_packs_are_attached_and_fail_on_a_violation():
    # Given the app as app.py builds it, plus one resource that breaks an AwsSolutions rule
    app = build_app()
    offender = Stack(app, "Offender")
    sqs.Queue(offender, "PlainQueue")  # no SSL enforcement, no DLQ
    # Then synthesis refuses it
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(offender)


def test_regions_context_gives_one_stack_per_region():
    app = build_app({"regions": "us-east-1, eu-west-1"})
    stacks = [c for c in app.node.children if isinstance(c, Stack)]
    assert [(s.stack_name, s.region) for s in stacks] == [
        ("GuardDutyResponder-us-east-1", "us-east-1"),
        ("GuardDutyResponder-eu-west-1", "eu-west-1"),
    ]


def test_without_regions_the_stack_is_environment_agnostic():
    app = build_app()
    [stack] = [c for c in app.node.children if isinstance(c, Stack)]
    assert stack.stack_name == "GuardDutyResponder"
    assert stack.region.startswith("${Token")


@pytest.mark.parametrize(
    ("raw", "regions"), [(None, []), ("", []), ("us-east-1", ["us-east-1"]), ("a, b,", ["a", "b"])]
)
def test_regions_from(raw, regions):
    assert regions_from(raw) == regions


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _dists(asset: Path) -> dict[str, email.message.Message]:
    dists = {}
    for info in asset.glob("*.dist-info"):
        metadata = email.parser.Parser().parsestr((info / "METADATA").read_text())
        dists[re.sub(r"[-_.]+", "-", metadata["Name"]).lower()] = info
    return dists


def test_asset_holds_every_import_of_the_handler(asset_dir):
    # Our package is there
    assert (asset_dir / "responder" / "handler.py").is_file()
    assert (asset_dir / "responder" / "templates" / "email.html").is_file()
    # The Japanese catalogue the function reads, and the time zones for JST (no system zoneinfo needed).
    assert (asset_dir / "responder" / "locale" / "ja" / "LC_MESSAGES" / "responder.mo").is_file()
    assert (asset_dir / "tzdata" / "zoneinfo" / "Asia" / "Tokyo").is_file()
    # Every third-party top-level module our code imports is shipped (or provided by the runtime)
    imported = set()
    for source in (ROOT / "lambdas" / "responder").rglob("*.py"):
        imported |= _imports(source)
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "responder"}
    assert third_party >= {"aws_lambda_powertools", "pydantic", "pydantic_core", "jinja2"}
    for name in third_party - RUNTIME_PROVIDED:
        assert (asset_dir / name).is_dir() or (asset_dir / f"{name}.py").is_file(), name


def test_asset_dependencies_are_complete(asset_dir):
    dists = _dists(asset_dir)
    for name, info in dists.items():
        metadata = email.parser.Parser().parsestr((info / "METADATA").read_text())
        for requirement in metadata.get_all("Requires-Dist") or []:
            if ";" in requirement:  # extras and environment markers are optional here
                continue
            dependency = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ \[(]", requirement, maxsplit=1)[0]).lower()
            assert dependency in dists or dependency in RUNTIME_PROVIDED, f"{name} needs {dependency}"
    assert not RUNTIME_PROVIDED & set(dists), "boto3/botocore come with the runtime"


def test_asset_wheels_are_for_arm64_and_the_function_python(asset_dir):
    for info in asset_dir.glob("*.dist-info"):
        tags = [
            line.split(": ", 1)[1] for line in (info / "WHEEL").read_text().splitlines() if line.startswith("Tag: ")
        ]
        for tag in tags:
            python, _abi, platform = tag.split("-")
            assert platform == "any" or platform.endswith("aarch64"), (info.name, tag)
            assert python in ("py3", "cp314") or python.startswith("py"), (info.name, tag)
    binaries = list(asset_dir.rglob("*.so"))
    assert binaries, "pydantic-core ships a compiled extension"
    for binary in binaries:
        assert "aarch64" in binary.name or "abi3" in binary.name, binary.name
        assert "cpython-314" in binary.name or "abi3" in binary.name, binary.name


def test_app_entry_point_builds_the_same_app():
    source = (ROOT / "app.py").read_text()
    assert "build_app().synth()" in source
    assert isinstance(build_app(), App)
