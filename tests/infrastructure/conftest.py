"""One synthesized app for all infrastructure tests (synth bundles the asset: do it once)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture(scope="session")
def assembly() -> Any:
    from infra.app import build_app

    # Building with the cdk-nag packs attached raises ValidationFailed on any violation.
    return build_app().synth()


@pytest.fixture(scope="session")
def template(assembly) -> dict[str, Any]:
    stack = assembly.get_stack_by_name("GuardDutyResponder")
    return json.loads(Path(stack.template_full_path).read_text())


@pytest.fixture(scope="session")
def asset_dir(assembly) -> Path:
    stack = assembly.get_stack_by_name("GuardDutyResponder")
    manifest = json.loads((Path(assembly.directory) / f"{stack.stack_name}.assets.json").read_text())
    [directory] = [f["source"]["path"] for f in manifest["files"].values() if f["source"].get("packaging") == "zip"]
    return Path(assembly.directory) / directory


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """The resources of one type, by logical id."""
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def only(template: dict[str, Any], kind: str) -> tuple[str, Any]:
    """The one resource of this type."""
    [(name, resource)] = resources(template, kind).items()
    return name, resource


def named(template: dict[str, Any], kind: str, prefix: str) -> tuple[str, Any]:
    """The one resource of this kind whose logical id starts with ``prefix``."""
    [(name, resource)] = [(n, r) for n, r in resources(template, kind).items() if n.startswith(prefix)]
    return name, resource


@pytest.fixture(scope="session")
def forwarder_template() -> dict[str, Any]:
    """eu-west-1's forwarding stack of a two-Region app (home us-east-1) in account 111122223333."""
    from aws_cdk.assertions import Template

    from infra.app import build_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
        app = build_app({"regions": "us-east-1,eu-west-1", "home_region": "us-east-1"})
        return Template.from_stack(app.node.find_child("GuardDutyResponder-eu-west-1")).to_json()


@pytest.fixture(scope="session")
def member_assembly() -> Any:
    from infra.app import build_app

    # `cdk synth -c member=1`, cdk-nag attached (a finding raises ValidationFailed)
    return build_app({"member": "1"}).synth()


@pytest.fixture(scope="session")
def member_template(member_assembly) -> dict[str, Any]:
    stack = member_assembly.get_stack_by_name("GuardDutyResponderMember")
    return json.loads(Path(stack.template_full_path).read_text())
