"""Chat: the topic Amazon Q Developer in chat applications reads, and the Slack and Microsoft Teams
channel configurations when their ids are given.

No webhook anywhere: the service posts to the channel itself, from the topic, once the workspace
(Slack) or the team and tenant (Teams) are authorised in its console. Without the ids the topic is
still created (output ``ChatTopicArn``) for a configuration made in the console.

A configuration's chat users may run commands within the intersection of the channel role and the
guardrail policies: the channel role has no permissions and the guardrail is ReadOnlyAccess (the
service applies AdministratorAccess when no guardrail is given), so the channel only receives.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Aws, CfnResource, Names
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants
from infra.alerting import encrypted_topic
from infra.flags import Flag, Named, all_of, any_of, attach, equals, named, negate
from infra.props import Values


class Chat:
    """Builds its resources into ``scope`` (the responder), like every part: see ``infra.responder``."""

    def __init__(self, scope: Construct, *, values: Values, key: kms.IKey) -> None:
        has_slack = named(scope, "HasSlackChannel", _all_given(values, "ChatSlackWorkspaceId", "ChatSlackChannelId"))
        has_teams = named(
            scope, "HasTeamsChannel", _all_given(values, "ChatTeamsTeamId", "ChatTeamsTenantId", "ChatTeamsChannelId")
        )
        # The notifier publishes to the chat topic only when chat is on (its CHAT_TOPIC_ARN is empty otherwise).
        self.uses_chat: Named = named(
            scope, "UsesChat", any_of(equals(values.text("ChatNotifications"), "yes"), has_slack, has_teams)
        )
        # Finding data, like the alert topic: the same key, which only the notifier's role may use.
        self.topic: sns.Topic = encrypted_topic(scope, "ChatTopic", "GuardDuty findings for chat", key)
        configures = named(scope, "HasChatChannel", any_of(has_slack, has_teams))
        if configures is False:
            return
        role = iam.Role(
            scope,
            "ChatRole",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description="GuardDuty Responder chat channels: no permissions, the channels only receive alerts",
        )
        attach(cast(iam.CfnRole, role.node.default_child), configures)
        # What both kinds of configuration share: receive the chat topic, read-only, errors logged.
        common: dict[str, Any] = {
            "configuration_name": "",  # each is named after its own path, below
            "iam_role_arn": role.role_arn,
            "guardrail_policies": [f"arn:{Aws.PARTITION}:iam::aws:policy/{constants.CHAT_GUARDRAIL_POLICY}"],
            "sns_topic_arns": [self.topic.topic_arn],
            "user_role_required": False,  # the channel role, not each member's own
            "logging_level": constants.CHAT_LOGGING_LEVEL,
        }
        if has_slack is not False:
            slack = chatbot.CfnSlackChannelConfiguration(
                scope,
                "SlackChannel",
                slack_workspace_id=values.text("ChatSlackWorkspaceId"),
                slack_channel_id=values.text("ChatSlackChannelId"),
                **common,
            )
            slack.configuration_name = _configuration_name(slack)
            attach(slack, has_slack)
        if has_teams is not False:
            teams = chatbot.CfnMicrosoftTeamsChannelConfiguration(
                scope,
                "TeamsChannel",
                team_id=values.text("ChatTeamsTeamId"),
                teams_tenant_id=values.text("ChatTeamsTenantId"),
                teams_channel_id=values.text("ChatTeamsChannelId"),
                **common,
            )
            teams.configuration_name = _configuration_name(teams)
            attach(teams, has_teams)


def _all_given(values: Values, *names: str) -> Flag:
    return all_of(*(negate(equals(values.text(name), "")) for name in names))


def _configuration_name(configuration: CfnResource) -> str:
    """A name no other configuration of the account has: the service is global, so the same stack
    deployed in two Regions would otherwise ask for the same name, and one stack may hold two
    responders (their paths differ). At most 128 characters of ``[A-Za-z0-9-_]``: 100 for the
    path, the rest for the Region.
    """
    return f"{Names.unique_resource_name(configuration, max_length=100, separator='-')}-{Aws.REGION}"
