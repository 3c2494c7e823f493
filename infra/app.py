"""Build the CDK app: one stack per Region, cdk-nag's AwsSolutions and Serverless packs attached."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import constants
from infra.stack import GuardDutyResponderStack


def regions_from(context: Any) -> list[str]:
    """``-c regions=us-east-1,eu-west-1`` -> the list; empty means the current Region."""
    return [region.strip() for region in str(context or "").split(",") if region.strip()]


def build_app(context: Mapping[str, Any] | None = None) -> App:
    """The app with its stacks. GuardDuty findings are regional: deploy one stack per Region."""
    app = App(context=dict(context or {}))
    regions = regions_from(app.node.try_get_context("regions"))
    if not regions:
        # Environment-agnostic: deploys to the Region of the CLI profile; synth needs no credentials.
        GuardDutyResponderStack(app, constants.STACK_NAME)
    for region in regions:
        GuardDutyResponderStack(
            app,
            f"{constants.STACK_NAME}-{region}",
            env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region),
        )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app
