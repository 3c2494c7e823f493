"""Runbooks: the six SSM Automation documents (``infra/runbooks/documents.py``), one role per document
with exactly the calls its steps make (``permissions.grants_for``), and the optional approval topic.

Nothing here starts a runbook: no rule, schedule or function does (a template test checks). A person runs
one with their own credentials (``aws ssm start-automation-execution``, or the console), and Systems
Manager acts with the document's role, which only Automation of this account may assume.

Built directly into ``scope`` like every part of the responder (``infra/responder.py``): the full stack,
the forwarding stack of another Region and the member accounts' stack (``infra/member.py``) each build
one set, since a runbook acts in the account and Region it runs in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from aws_cdk import Acknowledgment, Aws, CfnResource, Fn, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import constants
from infra.alerting import subscribe
from infra.flags import Flag, Named, all_of, attach, is_token, named, negate
from infra.functions import nag_prints
from infra.runbooks import documents
from infra.runbooks.model import ContentContext, Runbook
from infra.runbooks.permissions import Grant, grants_for

SERVICE_PRINCIPAL: Final = "ssm.amazonaws.com"
# SNS's AWS-managed key: the approval notice carries a document name and an execution id, no finding data,
# and the publisher is a role of this account (no key policy to write, no key to pay for).
SNS_MANAGED_KEY: Final = "alias/aws/sns"
_WILDCARD_REASON: Final = (
    "A runbook acts on the resource named when someone starts it (instance, access key, role, user, bucket, "
    "detector), unknown at deploy time, so the statement names the resource type of this account and Region "
    "(EC2 describe calls take no resource at all); tag and create-action conditions narrow it where the API "
    "allows. Only Systems Manager Automation executions of this account can assume the role; whoever may pass "
    "it to Systems Manager (iam:PassRole) can have any Automation document run with it, not only this runbook, "
    "so iam:PassRole on these roles belongs to the responders alone."
)


class Runbooks:
    """Builds its resources into ``scope`` (no construct of its own: see ``infra.responder``).

    Parameters
    ----------
    approvers
        IAM ARNs of whom one must approve a containment runbook (``RunbookApprovers``): a list or a
        list token. Non-empty: the containment documents start with an ``aws:approve`` step.
    alarm_email, has_alarm_email
        The operator subscribed to the approval topic, and whether one is given.
    dead_letter_queue
        Where SNS keeps approval notices it could not deliver (None: the member stack has no queue).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        approvers: Sequence[str],
        alarm_email: str,
        has_alarm_email: Named,
        dead_letter_queue: sqs.IQueue | None,
    ) -> None:
        stack = Stack.of(scope)
        self.has_approvers = named(scope, "HasRunbookApprovers", has_items(approvers))
        self.approval_topic: sns.Topic | None = None
        approval: dict[str, Any] | None = None
        if self.has_approvers is not False:
            self.approval_topic = _approval_topic(scope, self.has_approvers)
            subscribes = named(scope, "SubscribesApprovals", all_of(self.has_approvers, has_alarm_email))
            _subscribe_approvals(scope, self.approval_topic, alarm_email, subscribes, dead_letter_queue)
            approval = {"approvers": approvers, "topic_arn": self.approval_topic.topic_arn}
        self.roles: dict[str, iam.Role] = {}
        self.documents: dict[str, ssm.CfnDocument] = {}
        for runbook in documents.RUNBOOKS:
            role = _role(scope, stack, runbook)
            document = ssm.CfnDocument(
                scope,
                f"{pascal(runbook.key)}Runbook",
                name=runbook.name,
                document_type="Automation",
                document_format="JSON",
                # A fixed name cannot be replaced (CloudFormation refuses to replace a custom-named resource):
                # a changed content becomes a new version, made the default one.
                update_method="NewVersion",
                content=content(runbook, role.role_arn, approval, self.has_approvers),
            )
            self.roles[runbook.key] = role
            self.documents[runbook.key] = document
        if self.approval_topic is not None:
            _allow_approval_notices(scope, self.approval_topic, self.has_approvers, self.approvable_roles())

    def approvable_roles(self) -> list[iam.Role]:
        """The roles of the documents an approval step may start (containment)."""
        return [self.roles[runbook.key] for runbook in documents.RUNBOOKS if runbook.approvable]

    @property
    def names(self) -> list[str]:
        """The documents' names, in email order."""
        return [runbook.name for runbook in documents.RUNBOOKS]


def pascal(key: str) -> str:
    """``public_access`` -> ``PublicAccess`` (the runbook's part of its logical IDs)."""
    return "".join(part.capitalize() for part in key.split("_"))


def has_items(values: Sequence[str]) -> Flag:
    """Whether a list (or a CommaDelimitedList parameter) has an item: decided now for a plain list."""
    if is_token(values) or any(is_token(value) for value in values):
        return negate(Fn.condition_equals(Fn.join("", list(values)), ""))
    return bool(values)


def content(runbook: Runbook, role_arn: str, approval: Mapping[str, Any] | None, flag: Named) -> dict[str, Any]:
    """The document's content; for a containment runbook, the approval step under ``flag``.

    Where ``flag`` is a condition, each top-level key that differs with the approval (``mainSteps``) is an
    ``Fn::If`` between its two versions: CloudFormation resolves intrinsics inside the content, and one
    document keeps its one fixed name whatever the deploy decides.
    """
    without = runbook.content(ContentContext(role_arn))
    if not runbook.approvable or approval is None or flag is False:
        return without
    approved = runbook.content(ContentContext(role_arn, dict(approval)))
    if flag is True:
        return approved
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*approved, *without]):
        if key in approved and key in without and approved[key] == without[key]:
            merged[key] = approved[key]
        else:
            merged[key] = Fn.condition_if(
                flag.logical_id, approved.get(key, Aws.NO_VALUE), without.get(key, Aws.NO_VALUE)
            )
    return merged


def automation_principal(stack: Stack) -> iam.ServicePrincipal:
    """Systems Manager, for Automation executions of this account only (confused-deputy protection)."""
    return iam.ServicePrincipal(
        SERVICE_PRINCIPAL,
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(service="ssm", resource="automation-execution", resource_name="*")
            },
        },
    )


def statements(stack: Stack, grants: Sequence[Grant], *, region: str | None = None) -> list[iam.PolicyStatement]:
    """One statement per grant, its ARN templates filled in for ``stack`` (``region``: another Region
    than the stack's, ``*`` for a role that acts in every Region).
    """
    return [
        iam.PolicyStatement(
            actions=list(grant.actions),
            resources=[_arn(stack, resource, region) for resource in grant.resources],
            conditions={key: dict(value) for key, value in grant.conditions.items()} if grant.conditions else None,
        )
        for grant in grants
    ]


def acknowledge_wildcards(
    stack: Stack, scope: Construct, grants: Sequence[Grant], reason: str, *, region: str | None = None
) -> None:
    """One cdk-nag IAM5 acknowledgment per wildcard resource or action of ``grants`` (as ``statements``
    builds them), as cdk-nag names it.
    """
    found: dict[str, None] = {}
    for grant in grants:
        found.update({f"Action::{action}": None for action in grant.actions if "*" in action})
        found.update(
            {f"Resource::{nag_prints(stack, _arn(stack, r, region))}": None for r in grant.resources if "*" in r}
        )
    acknowledgments = [Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason) for finding in found]
    if acknowledgments:
        Validations.of(scope).acknowledge(*acknowledgments)


def _arn(stack: Stack, template: str, region: str | None = None) -> str:
    """An ARN template of ``permissions`` (``${AWS::Region}``, ...) with this stack's values or tokens."""
    return (
        template.replace("${AWS::Partition}", stack.partition)
        .replace("${AWS::Region}", stack.region if region is None else region)
        .replace("${AWS::AccountId}", stack.account)
    )


def _role(scope: Construct, stack: Stack, runbook: Runbook) -> iam.Role:
    """The document's own role: exactly the calls of its steps, inline (no managed policy)."""
    grants = grants_for(runbook)
    role = iam.Role(
        scope,
        f"{pascal(runbook.key)}RunbookRole",
        assumed_by=automation_principal(stack),
        description=f"GuardDuty Responder runbook {runbook.name}: the API calls of its steps, nothing else",
        inline_policies={"Runbook": iam.PolicyDocument(statements=statements(stack, grants))},
    )
    acknowledge_wildcards(stack, role, grants, _WILDCARD_REASON)
    return role


def _approval_topic(scope: Construct, flag: Named) -> sns.Topic:
    """The topic ``aws:approve`` notifies (its name must start with ``Automation``); only with approvers."""
    topic = sns.Topic(
        scope,
        "ApprovalTopic",
        topic_name=constants.APPROVAL_TOPIC_NAME,
        display_name="GuardDuty Responder runbook approvals",
        enforce_ssl=True,
    )
    cfn_topic = cast(sns.CfnTopic, topic.node.default_child)
    cfn_topic.kms_master_key_id = SNS_MANAGED_KEY
    for child in topic.node.find_all():
        if isinstance(child, CfnResource):
            attach(child, flag)
    return topic


def approval_topic_arn(stack: Stack) -> str:
    """The approval topic's ARN from its fixed name: a policy may name it whether or not the topic exists."""
    return stack.format_arn(service="sns", resource=constants.APPROVAL_TOPIC_NAME)


def _subscribe_approvals(
    scope: Construct, topic: sns.Topic, alarm_email: str, flag: Named, dead_letter_queue: sqs.IQueue | None
) -> None:
    """The alarm address gets the approval notices (with approvers and an address only)."""
    if flag is False:
        return
    if dead_letter_queue is not None:
        subscribe(
            scope, "ApprovalSubscription", topic=topic, address=alarm_email, flag=flag,
            dead_letter_queue=dead_letter_queue,
        )  # fmt: skip
        # Named by its fixed ARN: the statement stays valid in a deploy without the (conditional) topic.
        dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowApprovalNoticeRedrive",
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[dead_letter_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": approval_topic_arn(Stack.of(scope))}},
            )
        )
        return
    subscription = sns.CfnSubscription(
        scope, "ApprovalSubscription", topic_arn=topic.topic_arn, protocol="email", endpoint=alarm_email
    )
    attach(subscription, flag)
    Validations.of(subscription).acknowledge(
        Acknowledgment(
            id="Serverless-SNSRedrivePolicy",
            reason="The member stack has no queue or alarm of its own; an approval notice SNS could not deliver "
            "leaves the execution waiting, listed in the Systems Manager console's pending approvals.",
        )
    )


def _allow_approval_notices(scope: Construct, topic: sns.Topic, flag: Named, roles: list[iam.Role]) -> None:
    """Let the containment roles publish the approval notice: Automation publishes it as the runbook's
    assume role (AWS's own AmazonSSMAutomationRole allows sns:Publish on ``Automation*`` topics for it).
    """
    policy = iam.Policy(
        scope,
        "RunbookApprovalPolicy",
        statements=[iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn])],
        roles=roles,
    )
    attach(cast(iam.CfnPolicy, policy.node.default_child), flag)


def administration_role(scope: Construct, execution_role_name: str, flag: Named) -> iam.Role:
    """``AWS-SystemsManager-AutomationAdministrationRole``: what Automation assumes in this account to run a
    runbook in member accounts (``--target-locations``); it may assume only their execution role, and only
    in an account of this account's own organization (``aws:ResourceOrgID`` equal to
    ``${aws:PrincipalOrgID}``: a responder account outside any organization assumes none).
    """
    stack = Stack.of(scope)
    targets = stack.format_arn(
        service="iam", region="", account="*", resource="role", resource_name=execution_role_name
    )
    role = iam.Role(
        scope,
        "AutomationAdministrationRole",
        role_name=constants.ADMINISTRATION_ROLE_NAME,
        assumed_by=iam.ServicePrincipal(
            SERVICE_PRINCIPAL, conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
        ),
        description="GuardDuty Responder: Automation runs runbooks in member accounts with their execution role",
        inline_policies={
            "AssumeExecutionRole": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=["sts:AssumeRole"],
                        resources=[targets],
                        # Only a role of an account in this account's own organization (a global
                        # condition key pair: the target role's organization equals the caller's).
                        conditions={"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
                    )
                ]
            )
        },
    )
    attach(cast(iam.CfnRole, role.node.default_child), flag)
    Validations.of(role).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::{nag_prints(stack, targets)}]",
            reason="The execution role of that one name in any account of this account's organization "
            "(aws:ResourceOrgID): the member accounts are those the findings come from, not known at deploy "
            "time. That role (the member stack) trusts this account's administration role, and Systems Manager "
            "for Automation executions of its own account and of this one.",
        )
    )
    return role
