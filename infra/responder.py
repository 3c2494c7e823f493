"""``GuardDutyResponder``: the whole responder as one construct, for this app's stack or your own.

Its parts (``infra/queues.py``, ``alerting.py``, ``chat.py``, ``runbooks/construct.py``, ``functions.py``,
``triggers.py``, ``alarms.py``)
each own one concern, and each builds its resources directly into the responder's scope rather
than into a construct of its own: a nested construct would add its id to every logical ID, so
``cdk deploy`` of this version would replace the state table, the topics (subscriptions to
confirm again) and the retained keys of an existing deployment. The deployable stack places the
responder under the id ``Default``, which CDK leaves out of logical IDs: every resource keeps the
ID it had when the stack built it directly. In your own stack, give it any id: two responders
get distinct logical IDs, each prefixed by its id.
"""

from __future__ import annotations

from typing import Unpack

from aws_cdk import Aws
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import constants
from infra.alarms import Alarms
from infra.alerting import Alerting
from infra.chat import Chat
from infra.flags import any_of, choose_text, equals, named
from infra.functions import Functions
from infra.props import ResponderProps, Values, environment, values_from
from infra.queues import QueuesAndState
from infra.runbooks.construct import Runbooks, administration_role
from infra.triggers import Triggers


class GuardDutyResponder(Construct):
    """EventBridge rule -> triage Lambda -> SQS (immediate | digest) -> notifier Lambda -> SNS and/or SES.

    Parameters
    ----------
    scope, construct_id
        Where it goes, as for any construct.
    **props
        One keyword per stack parameter (``recipients`` for ``Recipients``, ``notify_threshold`` for
        ``NotifyThreshold``, ...; see ``ResponderProps`` and the README), each a plain value or a
        token. Plain values are checked now against the parameter's constraints (``ValueError``);
        decisions on plain values are made at synth time, on tokens by CloudFormation conditions.
    runbooks
        Deploy the response runbooks (SSM Automation documents and their roles, ``infra/runbooks``).
        Their names are fixed, so one set per account and Region: give ``False`` to a second
        responder there (its emails name the first one's runbooks).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, runbooks: bool = True, **props: Unpack[ResponderProps]
    ) -> None:
        super().__init__(scope, construct_id)
        values = values_from(props)
        channels = values.text("Channels")
        uses = {
            "sns": named(self, "UsesSns", any_of(equals(channels, "sns"), equals(channels, "sns,ses"))),
            "ses": named(self, "UsesSes", any_of(equals(channels, "ses"), equals(channels, "sns,ses"))),
        }
        queues = QueuesAndState(self)
        alerting = Alerting(self, values=values, uses_sns=uses["sns"], dead_letter_queue=queues.dead_letter_queue)
        queues.allow_sns_redrive(alerting.topic, alerting.alarm_topic)
        chat = Chat(self, values=values, key=alerting.key)
        self.runbooks: Runbooks | None = None
        if runbooks:
            self.runbooks = Runbooks(
                self,
                approvers=values.items("RunbookApprovers"),
                alarm_email=values.text("AlarmEmail"),
                has_alarm_email=alerting.has_alarm_email,
                dead_letter_queue=queues.dead_letter_queue,
            )
        creates_administration_role = named(
            self, "CreatesAdministrationRole", equals(values.text("AutomationAdministrationRole"), "yes")
        )
        if creates_administration_role is not False:
            self.administration_role = administration_role(
                self, values.text("MemberExecutionRoleName"), creates_administration_role
            )
        functions = Functions(
            self,
            environment=_environment(values, queues, alerting, chat, self.runbooks),
            queues=queues,
            alerting=alerting,
            chat_topic=chat.topic,
            sender=values.text("SenderAddress"),
            uses_ses=uses["ses"],
            organizations_role=values.text("OrganizationsRoleArn"),
        )
        triggers = Triggers(
            self,
            threshold=values.text("NotifyThreshold"),
            digest_minutes=values.text("DigestMinutes"),
            object_scans=values.text("ObjectScanAlerts"),
            triage=functions.triage,
            notifier=functions.notifier,
            dead_letter_queue=queues.dead_letter_queue,
        )
        Alarms(
            self,
            alarm_topic=alerting.alarm_topic,
            dead_letter_queue=queues.dead_letter_queue,
            immediate_queue=queues.immediate_queue,
            triage=functions.triage,
            notifier=functions.notifier,
            rule=triggers.rule,
            digest_schedule=triggers.digest_schedule,
            channels={**uses, "chat": chat.uses_chat},
        )
        self.topic: sns.Topic = alerting.topic
        self.alarm_topic: sns.Topic = alerting.alarm_topic
        self.route_topic: sns.Topic = alerting.route_topic
        self.chat_topic: sns.Topic = chat.topic
        self.routes_parameter: ssm.StringParameter = alerting.routes_parameter
        self.key: kms.Key = alerting.key
        self.alarm_key: kms.Key = alerting.alarm_key
        self.function: lambda_.Function = functions.triage
        self.notifier: lambda_.Function = functions.notifier
        self.immediate_queue: sqs.Queue = queues.immediate_queue
        self.digest_queue: sqs.Queue = queues.digest_queue
        self.dead_letter_queue: sqs.Queue = queues.dead_letter_queue
        self.state_table: dynamodb.Table = queues.state_table
        self.rule: events.Rule = triggers.rule
        self.object_scan_rule: events.Rule | None = triggers.object_scan_rule
        self.digest_schedule: events.Rule = triggers.digest_schedule


def _environment(
    values: Values, queues: QueuesAndState, alerting: Alerting, chat: Chat, runbooks: Runbooks | None
) -> dict[str, str]:
    """Every variable of the functions' settings models (responder/app/settings.py): the parameters'
    variables (``Parameter.env``) and the names of what the responder built; ``Functions`` gives
    each function only those its model reads.
    """
    return {
        **environment(values),
        "SES_CONFIGURATION_SET": alerting.configuration_set_in_use,
        "TOPIC_ARN": alerting.topic.topic_arn,
        # Empty when chat is off: the notifier then sends no chat message.
        "CHAT_TOPIC_ARN": choose_text(chat.uses_chat, chat.topic.topic_arn, ""),
        "ROUTE_TOPIC_ARN": alerting.route_topic.topic_arn,
        "ROUTES_PARAMETER": alerting.routes_parameter.parameter_name,
        "STATE_TABLE": queues.state_table.table_name,
        "IMMEDIATE_QUEUE_URL": queues.immediate_queue.queue_url,
        "DIGEST_QUEUE_URL": queues.digest_queue.queue_url,
        # Emails offer runbook runs across accounts only without an approval step (aws:approve does not
        # support them); the runbooks of a responder built with runbooks=False are another one's.
        "RUNBOOK_APPROVALS": choose_text(runbooks.has_approvers, "yes", "no") if runbooks else "no",
        "RESPONDER_ACCOUNT": Aws.ACCOUNT_ID,  # a finding of another account needs that account's runbooks
        "POWERTOOLS_SERVICE_NAME": constants.SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
        # No pydantic plugin is installed: skip pydantic's entry-point scan (importlib.metadata)
        # at cold start (about 2 % of each function's import).
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }
