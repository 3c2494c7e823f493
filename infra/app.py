"""Build the CDK app: one stack per Region (or the member accounts' stack), cdk-nag's AwsSolutions and
Serverless packs attached.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import constants
from infra.forwarding import ForwardingStack
from infra.member import MemberStack
from infra.stack import GuardDutyResponderStack


def regions_from(context: Any) -> list[str]:
    """``-c regions=us-east-1,eu-west-1`` -> the list; empty means the current Region."""
    return [region.strip() for region in str(context or "").split(",") if region.strip()]


def home_region_from(context: Any, regions: list[str]) -> str | None:
    """``-c home_region=us-east-1`` -> that Region, which must be one of ``regions``; None when not given."""
    home = str(context or "").strip()
    if not home:
        return None
    if home not in regions:
        listed = ",".join(regions) or "(none)"
        raise ValueError(f"-c home_region={home} is not one of -c regions={listed}: add it to regions")
    return home


def build_app(context: Mapping[str, Any] | None = None) -> App:
    """The app with its stacks. GuardDuty findings are regional: deploy one stack per Region,
    each a full responder, or with ``home_region`` one full responder there and a forwarding
    stack in every other Region (under the name the full stack had there, so it converts in place).
    With ``member=1``, only the member accounts' stack (runbooks and their execution role).
    """
    app = App(context=dict(context or {}))
    if str(app.node.try_get_context("member") or "").strip() not in ("", "0"):
        # `-c member=1`: the member accounts' stack alone (environment-agnostic: a StackSet template).
        MemberStack(app, constants.MEMBER_STACK_NAME)
        Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
        return app
    regions = regions_from(app.node.try_get_context("regions"))
    home = home_region_from(app.node.try_get_context("home_region"), regions)
    if not regions:
        # Environment-agnostic: deploys to the Region of the CLI profile; synth needs no credentials.
        GuardDutyResponderStack(app, constants.STACK_NAME)
    stacks: dict[str, Stack] = {}
    for region in regions:
        name = f"{constants.STACK_NAME}-{region}"
        env = Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region)
        if home is None or region == home:
            stacks[region] = GuardDutyResponderStack(app, name, env=env)
        else:
            stacks[region] = ForwardingStack(app, name, home_region=home, env=env)
    if home is not None:
        # `cdk deploy --all` deploys the home stack first: a forwarder that came first would put
        # findings on a bus with no rule for them yet, and they would be dropped unseen.
        for region, stack in stacks.items():
            if region != home:
                stack.add_stack_dependency(stacks[home], "forwarded findings need the home rule")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app
