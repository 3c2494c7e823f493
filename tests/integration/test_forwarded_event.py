"""One responder for every Region: a finding of eu-west-1 forwarded to the home Region (us-east-1).

The forwarding stack's rule (as synthesized) puts the event on the home Region's default bus,
where the home rule (the same pattern: tests/infrastructure/test_forwarding.py) hands it on;
the home triage and notifier then email it under the Region it came from.
"""

from __future__ import annotations

import copy
import email
import json
from email.policy import default
from typing import Any

import boto3
import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from demo.lambdas import FakeContext
from infra.forwarding import ForwardingStack
from infra.resolve import parameter_values, resolve
from tests.conftest import load
from tests.integration.conftest import RECIPIENTS, REGION, mapping, ses_messages, sns_messages
from tests.integration.test_handler import load_handler

HOME = REGION  # us-east-1, where the integration tests' responder runs
ORIGIN = "eu-west-1"
CONSOLE_LINK = f"https://{ORIGIN}.console.aws.amazon.com/guardduty/home?region={ORIGIN}#/findings"
ROUTES = "/guardduty-responder/routes"
EU_TEAM = "eu-team@example.com"


def forwarded(path: str = "events/UnauthorizedAccess_EC2_TorClient.json") -> dict[str, Any]:
    """A sample finding event as it reaches the home bus from eu-west-1: the envelope's and the
    finding's Region (and the finding ARN's) are eu-west-1, as on AWS, where the forwarded event
    keeps its ``region``.
    """
    event = copy.deepcopy(load(path))
    event["region"] = event["detail"]["region"] = ORIGIN
    event["detail"]["arn"] = event["detail"]["arn"].replace(f":{HOME}:", f":{ORIGIN}:")
    return event


@pytest.fixture(scope="module")
def forwarder_template() -> dict[str, Any]:
    """The forwarding stack of eu-west-1 (no asset to bundle: quick to synthesize)."""
    app = App()
    stack = ForwardingStack(app, f"GuardDutyResponder-{ORIGIN}", home_region=HOME, env=Environment(region=ORIGIN))
    return Template.from_stack(stack).to_json()


def _rule(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    [rule] = [r for name, r in template["Resources"].items() if name.startswith(prefix)]
    return rule["Properties"]


def test_a_finding_of_another_region_reaches_the_home_rule(forwarder_template, aws_env):
    # Given the forwarder's rule as deployed with the default threshold (4.0), its target the
    # home Region's default bus through its role, and in the home Region a rule with the same
    # pattern whose target is a queue (standing in for the triage function)
    rule = _rule(forwarder_template, "FindingsRule")
    pattern = resolve(forwarder_template, rule["EventPattern"], parameter_values(forwarder_template))
    [target] = rule["Targets"]
    with mock_aws():
        role_arn = boto3.client("iam", region_name=HOME).create_role(
            RoleName="ForwardRole", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )["Role"]["Arn"]
        names = {"AWS::Partition": "aws", "AWS::AccountId": DEFAULT_ACCOUNT_ID, "ForwardRoleAD41B8CF.Arn": role_arn}
        bus_arn = resolve(forwarder_template, target["Arn"], names)
        assert bus_arn == f"arn:aws:events:{HOME}:{DEFAULT_ACCOUNT_ID}:event-bus/default"
        origin = boto3.client("events", region_name=ORIGIN)
        origin.put_rule(Name="FindingsRule", EventPattern=json.dumps(pattern))
        origin.put_targets(
            Rule="FindingsRule",
            Targets=[
                {"Id": target["Id"], "Arn": bus_arn, "RoleArn": resolve(forwarder_template, target["RoleArn"], names)}
            ],
        )
        sqs = boto3.client("sqs", region_name=HOME)
        url = sqs.create_queue(QueueName="home-rule-target")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        home = boto3.client("events", region_name=HOME)
        home.put_rule(Name="FindingsRule", EventPattern=json.dumps(pattern))
        home.put_targets(Rule="FindingsRule", Targets=[{"Id": "Target0", "Arn": queue_arn}])

        # When GuardDuty publishes a High finding and a Low one (below the threshold) in eu-west-1
        high = forwarded()
        low = forwarded("events/UnauthorizedAccess_EC2_SSHBruteForce.json")
        origin.put_events(
            Entries=[
                {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"])}
                for e in (high, low)
            ]
        )

        # Then the home rule's target receives the High finding alone, its detail untouched
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    [body] = [json.loads(message["Body"]) for message in messages]
    assert (body["source"], body["detail-type"]) == ("aws.guardduty", "GuardDuty Finding")
    assert body["detail"] == high["detail"]
    assert body["detail"]["region"] == ORIGIN
    # moto rewrites the envelope's `region` to the bus's Region; AWS keeps the Region the event
    # came from. The emails use the finding's own `detail.region` (next test), so either way they
    # name eu-west-1.


def test_a_forwarded_finding_is_emailed_and_routed_under_its_own_region(aws, monkeypatch):
    # Given the home Region's responder (both channels) with a route for the finding's account,
    # and a finding forwarded from eu-west-1
    event = forwarded()
    account = event["detail"]["accountId"] = "111122223333"  # a member account (the sample's has 13 digits)
    routes = {"version": 1, "routes": [{"name": "eu-team", "match": {"accounts": [account]}, "ses": [EU_TEAM]}]}
    boto3.client("ssm", region_name=HOME).put_parameter(Name=ROUTES, Value=json.dumps(routes), Type="String")
    handler = load_handler(monkeypatch, aws, ROUTES_PARAMETER=ROUTES)

    # When the home triage takes it and the notifier sends the immediate queue
    result = handler.lambda_handler(event, FakeContext())
    assert (result["status"], result["route"]) == ("queued", "immediate")
    mapping(aws).drain(handler.notify_handler, FakeContext())

    # Then the subject and the console link name eu-west-1, never the home Region
    [(subject, text)] = sns_messages(aws["topic_arn"])
    assert subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0] UnauthorizedAccess:EC2/TorClient")
    assert subject.endswith(ORIGIN)
    assert CONSOLE_LINK in text
    assert f"--region {ORIGIN}" in text  # the archive and export commands run where the finding is
    assert HOME not in subject + text
    # ... and by SES the security team and the account's route each get it, the same way
    mails = [email.message_from_string(mail.raw_data, policy=default) for mail in ses_messages()]
    assert sorted(str(mail["To"]) for mail in mails) == sorted([", ".join(RECIPIENTS), EU_TEAM])
    for mail in mails:
        assert mail["Subject"] == subject
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert CONSOLE_LINK in html
        assert HOME not in html
