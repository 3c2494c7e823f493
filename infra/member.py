"""The member accounts' stack: the runbooks in each member account and Region, and the role the
responder's account runs them with.

A finding of a member account is acted on in that account. ``GuardDutyResponderMember`` (``cdk synth
-c member=1``) deploys there, best as a StackSet to every member account and Region: the same six runbooks
as the responder (so the email's local command works when signed in to the member account), and
``GuardDutyResponder-AutomationExecution``, which Automation assumes for a run started in the responder's
account with ``--target-locations`` (``MemberExecutionRoleName`` there).

The member's own ``RunbookApprovers`` apply only to runs started in the member account: a
``--target-locations`` run started in the responder's account runs the responder's document, under the
responder's approvers (none: with approvers the emails offer no such run), so it bypasses the member's.
A member with a two-person rule needs ``MemberExecutionRoleName`` left empty in the responder's stack, so
that its emails say to run the command in the member account.
IAM is global and a StackSet deploys one instance per Region: the role is created only in
``ExecutionRoleRegion``. No asset and no bootstrap-version rule: the template is StackSet-ready.
"""

from __future__ import annotations

from typing import Any, Final, cast

from aws_cdk import Aws, CfnCondition, CfnOutput, CfnParameter, DefaultStackSynthesizer, Fn, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import constants
from infra.flags import attach, equals, named, negate
from infra.parameters import BY_NAME
from infra.runbooks import documents
from infra.runbooks.construct import Runbooks, acknowledge_wildcards, statements
from infra.runbooks.permissions import Grant, grants_for
from infra.stack_parameters import cfn_parameter

ACCOUNT_ID: Final = r"^[0-9]{12}$"
REGION: Final = r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$"  # the notifier's AWS_REGION pattern (app/settings.py)
_EXECUTION_REASON: Final = (
    "The execution role runs any of the runbooks on the resource named when the run is started in the "
    "responder's account (instance, access key, role, user, bucket, detector), unknown at deploy time: each "
    "statement names the resource type of this account, in any Region the runs reach (EC2 describe calls "
    "take no resource at all), with "
    "the runbooks' own tag and create-action conditions. Only the responder account's administration role "
    "and Systems Manager, for Automation executions of this account or the responder's, may assume it."
)


class MemberStack(Stack):
    """A member account's runbooks and execution role (no function, no asset)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="GuardDuty Responder: response runbooks of a member account, and the role the "
            "responder's account runs them with",
            # No CDK bootstrap in member accounts: a StackSet deploys this template as it is.
            synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
            **kwargs,
        )
        administrator = CfnParameter(
            self,
            "AdministratorAccountId",
            type="String",
            description="The account the GuardDuty Responder runs in (its AutomationAdministrationRole may start "
            "this account's runbooks).",
            allowed_pattern=ACCOUNT_ID,
            constraint_description="a 12-digit account id",
        )
        execution_region = CfnParameter(
            self,
            "ExecutionRoleRegion",
            type="String",
            default="us-east-1",
            description="The one Region whose stack instance creates the execution role (IAM is global).",
            allowed_pattern=REGION,
            constraint_description="a Region such as us-east-1",
        )
        approvers = cfn_parameter(self, BY_NAME["RunbookApprovers"])
        alarm_email = cfn_parameter(self, BY_NAME["AlarmEmail"]).value_as_string
        has_alarm_email = named(self, "HasAlarmEmail", negate(equals(alarm_email, "")))
        self.runbooks = Runbooks(
            self,
            approvers=approvers.value_as_list,
            alarm_email=alarm_email,
            has_alarm_email=has_alarm_email,
            dead_letter_queue=None,
        )
        in_region = CfnCondition(
            self,
            "IsExecutionRoleRegion",
            expression=Fn.condition_equals(Aws.REGION, execution_region.value_as_string),
        )
        self.execution_role = _execution_role(self, administrator.value_as_string, in_region)
        CfnOutput(self, "RunbookNames", value=",".join(self.runbooks.names), description="Runbooks of this Region")
        role_output = CfnOutput(
            self,
            "ExecutionRoleName",
            value=self.execution_role.role_name,
            description="MemberExecutionRoleName of the responder's stack",
        )
        role_output.condition = in_region


def execution_grants() -> tuple[Grant, ...]:
    """Every runbook's grants, each once: the execution role runs any of them."""
    grants: list[Grant] = []
    for runbook in documents.RUNBOOKS:
        grants.extend(grant for grant in grants_for(runbook) if grant not in grants)
    return tuple(grants)


def _execution_role(stack: Stack, administrator: str, condition: CfnCondition) -> iam.Role:
    """``GuardDutyResponder-AutomationExecution``: the runbooks' calls, assumed by the responder account's
    administration role and by Systems Manager (which then runs the steps with it).
    """
    own_arn = stack.format_arn(service="iam", region="", resource="role", resource_name=constants.EXECUTION_ROLE_NAME)
    administration = stack.format_arn(
        service="iam",
        region="",
        account=administrator,
        resource="role",
        resource_name=constants.ADMINISTRATION_ROLE_NAME,
    )
    grants = execution_grants()
    pass_itself = iam.PolicyStatement(
        actions=["iam:PassRole"],
        resources=[own_arn],
        conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
    )
    role = iam.Role(
        stack,
        "AutomationExecutionRole",
        role_name=constants.EXECUTION_ROLE_NAME,
        assumed_by=iam.CompositePrincipal(
            iam.ArnPrincipal(administration),
            # Which account Systems Manager names as the source of a child execution (this one, or the
            # responder's) is not documented: either, and no other; and only for Automation executions
            # (confused-deputy protection, as the runbook roles' trust), in any Region a run reaches.
            iam.ServicePrincipal(
                "ssm.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": [stack.account, administrator]},
                    "ArnLike": {
                        "aws:SourceArn": [
                            stack.format_arn(
                                service="ssm",
                                region="*",
                                account=account,
                                resource="automation-execution",
                                resource_name="*",
                            )
                            for account in (stack.account, administrator)
                        ]
                    },
                },
            ),
        ),
        description="GuardDuty Responder: runs the runbooks here for runs started in the responder's account",
        # Every Region's runs use this one role (IAM is global): the runbooks' resources in any Region.
        inline_policies={
            "Runbooks": iam.PolicyDocument(statements=[*statements(stack, grants, region="*"), pass_itself])
        },
    )
    attach(cast(iam.CfnRole, role.node.default_child), condition)
    acknowledge_wildcards(stack, role, grants, _EXECUTION_REASON, region="*")
    return role
