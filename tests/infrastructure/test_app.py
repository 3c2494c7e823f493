"""The app: cdk-nag packs enforced, one stack per Region, and a complete arm64 asset."""

from __future__ import annotations

import ast
import email.parser
import json
import re
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra import constants
from infra.app import build_app, home_region_from, regions_from
from infra.forwarding import ForwardingStack
from infra.member import MemberStack
from infra.stack import GuardDutyResponderStack

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


def test_a_stack_deployed_to_a_region_passes_the_nag_packs(monkeypatch):
    # Given the stack of one Region and account (`cdk deploy -c regions=...` with the CLI's account)
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
    app = build_app({"regions": "eu-west-1"})
    # When it is synthesized with cdk-nag attached (a finding raises ValidationFailed)
    template = Template.from_stack(app.node.find_child("GuardDutyResponder-eu-west-1"))
    # Then the SES policy names that Region and account, and its identity/* acknowledgment matched them
    statements = template.find_resources("AWS::IAM::Policy", {"Condition": "UsesSes"})
    [policy] = statements.values()
    resources = [json.dumps(s["Resource"]) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert any(":ses:eu-west-1:111122223333:identity/*" in resource for resource in resources)


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


def test_home_region_gives_the_other_regions_a_forwarding_stack_under_the_same_name():
    # Given three Regions, the second the home Region
    app = build_app({"regions": "eu-west-1,us-east-1,ap-northeast-1", "home_region": "us-east-1"})
    stacks = {c.stack_name: c for c in app.node.children if isinstance(c, Stack)}
    # Then each Region keeps its stack name: the full responder at home, a forwarder elsewhere ...
    assert {name: type(stack) for name, stack in stacks.items()} == {
        "GuardDutyResponder-eu-west-1": ForwardingStack,
        "GuardDutyResponder-us-east-1": GuardDutyResponderStack,
        "GuardDutyResponder-ap-northeast-1": ForwardingStack,
    }
    assert {stack.region for stack in stacks.values()} == {"eu-west-1", "us-east-1", "ap-northeast-1"}
    # ... and `cdk deploy --all` deploys the home stack before the forwarders
    home = stacks["GuardDutyResponder-us-east-1"]
    assert home.dependencies == []
    for name in ("GuardDutyResponder-eu-west-1", "GuardDutyResponder-ap-northeast-1"):
        assert stacks[name].dependencies == [home]


def test_the_home_stack_is_the_full_stack_as_without_a_home_region(monkeypatch):
    # Given the same Regions and account, with and without a home Region
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
    context = {"regions": "us-east-1,eu-west-1"}
    without = build_app(context).node.find_child("GuardDutyResponder-us-east-1")
    with_home = build_app({**context, "home_region": "us-east-1"}).node.find_child("GuardDutyResponder-us-east-1")
    # Then the home Region's template is the same, resource for resource
    assert Template.from_stack(with_home).to_json() == Template.from_stack(without).to_json()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"regions": "us-east-1,eu-west-1", "home_region": "ap-northeast-1"},
         "-c home_region=ap-northeast-1 is not one of -c regions=us-east-1,eu-west-1: add it to regions"),
        ({"home_region": "us-east-1"}, "-c home_region=us-east-1 is not one of -c regions=(none): add it to regions"),
    ],
)  # fmt: skip
def test_a_home_region_outside_the_regions_is_refused_at_synth_in_one_line(context, message):
    # Given a home Region that is not one of the Regions deployed
    # Then building the app fails with one line naming both context values
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        build_app(context)


@pytest.mark.parametrize(
    ("raw", "home"),
    [(None, None), ("", None), ("  ", None), ("us-east-1", "us-east-1"), (" eu-west-1 ", "eu-west-1")],
)
def test_home_region_from(raw, home):
    assert home_region_from(raw, ["us-east-1", "eu-west-1"]) == home


@pytest.mark.parametrize(
    ("context", "kinds"),
    [({"member": "1"}, [MemberStack]), ({"member": "1", "regions": "us-east-1,eu-west-1"}, [MemberStack]),
     ({"member": "0"}, [GuardDutyResponderStack]), ({"member": ""}, [GuardDutyResponderStack])],
)  # fmt: skip
def test_member_context_builds_the_member_accounts_stack_instead_of_the_responder(context, kinds):
    # Given `cdk synth -c member=1` (or 0, or empty)
    app = build_app(context)
    # Then the member accounts' stack alone, environment-agnostic (one template for every member and Region)
    stacks = [c for c in app.node.children if isinstance(c, Stack)]
    assert [type(stack) for stack in stacks] == kinds
    if kinds == [MemberStack]:
        assert stacks[0].stack_name == "GuardDutyResponderMember"
        assert stacks[0].region.startswith("${Token") and stacks[0].account.startswith("${Token")


def test_infra_never_imports_the_tests():
    # Given every module of infra/ (the runbook step runner lives in tests/runbooks, test-only)
    for path in (ROOT / "infra").rglob("*.py"):
        # Then none imports the tests package
        assert "tests" not in _imports(path), path


def test_without_a_home_region_every_region_gets_the_full_stack():
    app = build_app({"regions": "us-east-1,eu-west-1", "home_region": ""})
    stacks = [c for c in app.node.children if isinstance(c, Stack)]
    assert [type(stack) for stack in stacks] == [GuardDutyResponderStack, GuardDutyResponderStack]
    assert all(stack.dependencies == [] for stack in stacks)


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


def test_asset_ships_bytecode_of_the_runtime_python(asset_dir):
    # Given the asset (built where the function's Python version is installed, as `make test` needs)
    from infra import constants
    from infra.asset import runtime_python

    if runtime_python() is None:
        pytest.skip(f"no Python {constants.PYTHON_VERSION} here: the asset is built without bytecode")
    tag = f"cpython-{constants.PYTHON_VERSION.replace('.', '')}"
    # Then our modules and the libraries they import carry .pyc files of that version, compiled with
    # unchecked-hash invalidation (used as they are, whatever the file times in the zip: no
    # compilation at cold start in the read-only code directory)
    for module in ("responder/triage_handler.py", "responder/domain/models.py", "pydantic/main.py"):
        source = asset_dir / module
        cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert cached.is_file(), module
        flags = int.from_bytes(cached.read_bytes()[4:8], "little")
        assert flags == 0b01, module  # hash-based (bit 0), check_source off (bit 1)
    assert not list(asset_dir.rglob("*.cpython-311.pyc"))  # nothing of the build machine's own Python


def test_asset_holds_every_import_of_the_handler(asset_dir):
    # Our package is there
    assert (asset_dir / "responder" / "triage_handler.py").is_file()
    assert (asset_dir / "responder" / "notify_handler.py").is_file()
    assert (asset_dir / "responder" / "domain" / "templates" / "email.html").is_file()
    # The Japanese catalogue the function reads, and the time zones for JST (no system zoneinfo needed).
    assert (asset_dir / "responder" / "domain" / "locale" / "ja" / "LC_MESSAGES" / "responder.mo").is_file()
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


# The function runtime, from the one place that sets it: "3.13" -> cp313 and cpython-313.
RUNTIME = tuple(int(part) for part in constants.PYTHON_VERSION.split("."))
CPYTHON_TAG = f"cp{RUNTIME[0]}{RUNTIME[1]}"
NEWER, OLDER = f"cp{RUNTIME[0]}{RUNTIME[1] + 1}", f"cp{RUNTIME[0]}{RUNTIME[1] - 1}"
EM_AARCH64 = 183  # ELF e_machine of arm64


def _wheel_tags(info: Path) -> list[str]:
    """The expanded tags of an installed wheel ("py2.py3-none-any" counts as py2 and py3)."""
    tags = []
    for line in (info / "WHEEL").read_text().splitlines():
        if line.startswith("Tag: "):
            pythons, abis, platforms = line.split(": ", 1)[1].split("-")
            tags += [
                f"{py}-{abi}-{plat}"
                for py in pythons.split(".")
                for abi in abis.split(".")
                for plat in platforms.split(".")
            ]
    return tags


def _runs_on_the_function(tag: str) -> bool:
    """Pure Python 3, or CPython built for the runtime's version (or its stable ABI) on arm64 Linux."""
    python, abi, platform = tag.split("-")
    if abi == "none" and platform == "any":
        return python in ("py3", CPYTHON_TAG)
    arm64_linux = platform.startswith("manylinux") and platform.endswith("_aarch64")
    if abi == "abi3":  # the stable ABI of any CPython 3.x not newer than the runtime
        return arm64_linux and python.startswith("cp3") and int(python[3:]) <= RUNTIME[1]
    return arm64_linux and python == abi == CPYTHON_TAG


@pytest.mark.parametrize(
    ("tag", "runs"),
    [
        ("py3-none-any", True),
        (f"{CPYTHON_TAG}-{CPYTHON_TAG}-manylinux2014_aarch64", True),
        (f"{CPYTHON_TAG}-{CPYTHON_TAG}-manylinux_2_17_aarch64", True),
        ("cp38-abi3-manylinux2014_aarch64", True),
        (f"{CPYTHON_TAG}-{CPYTHON_TAG}-manylinux2014_x86_64", False),  # other architecture
        (f"{CPYTHON_TAG}-{CPYTHON_TAG}-musllinux_1_2_aarch64", False),  # other C library
        (f"{NEWER}-{NEWER}-manylinux2014_aarch64", False),  # other Python versions
        (f"{OLDER}-{OLDER}-manylinux2014_aarch64", False),
        (f"{NEWER}-abi3-manylinux2014_aarch64", False),  # a stable ABI newer than the runtime
        ("py2-none-any", False),
    ],
)
def test_wheel_tag_check(tag, runs):
    assert _runs_on_the_function(tag) is runs


def test_asset_wheels_are_for_arm64_and_the_function_python(asset_dir):
    # Given every installed distribution of the asset
    infos = list(asset_dir.glob("*.dist-info"))
    assert len(infos) >= 10
    compiled = set()
    for info in infos:
        # Then at least one of its wheel tags runs on the function (pip picked the wheel by them)
        tags = _wheel_tags(info)
        assert any(_runs_on_the_function(tag) for tag in tags), (info.name, tags)
        if not any(tag.endswith("-none-any") for tag in tags):
            compiled.add(info.name)
    assert any(name.startswith("pydantic_core-") for name in compiled), compiled


def test_asset_extensions_are_built_for_the_function_python_and_arm64(asset_dir):
    # Given every compiled extension of the asset
    binaries = list(asset_dir.rglob("*.so"))
    assert binaries, "pydantic-core ships a compiled extension"
    for binary in binaries:
        # Then its name is for the runtime's CPython on arm64 Linux (or the stable ABI) ...
        assert binary.name.endswith((f".cpython-{CPYTHON_TAG[2:]}-aarch64-linux-gnu.so", ".abi3.so")), binary.name
        # ... and so is the file itself: a 64-bit little-endian ELF for arm64
        header = binary.read_bytes()[:20]
        assert header[:6] == b"\x7fELF\x02\x01", binary.name
        assert int.from_bytes(header[18:20], "little") == EM_AARCH64, binary.name


def test_app_entry_point_builds_the_same_app():
    source = (ROOT / "app.py").read_text()
    assert "build_app().synth()" in source
    assert isinstance(build_app(), App)
