"""The doctor's pure checks: the verdicts moto cannot produce (stack states, policies, key kinds)."""

from __future__ import annotations

import json

import pytest

from responder.app.doctor import (
    OUTPUTS,
    RUNBOOK_NAMES,
    check_alarm_policy,
    check_alarms,
    check_detector,
    check_keys,
    check_rule,
    check_runbooks,
    check_sender,
    check_ses_account,
    check_stack,
    check_subscriptions,
    report,
    severity_floor,
)
from responder.domain.deployment import (
    AlarmInfo,
    DetectorInfo,
    KeyInfo,
    Result,
    RuleInfo,
    SesAccount,
    StackInfo,
    Subscription,
    TopicInfo,
    Verdict,
)

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms"
ALARM_A = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:A"
ALARM_B = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:B"
FUNCTION = "GuardDutyResponder-Function-ABC"
PATTERN = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}


def stack(status: str = "CREATE_COMPLETE", **outputs: str) -> StackInfo:
    values = {name: f"value-of-{name}" for name in OUTPUTS} | outputs
    return StackInfo("S", "arn:aws:cloudformation:us-east-1:123456789012:stack/S/1", status, values, {}, ())


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("CREATE_COMPLETE", "ok"),
        ("UPDATE_COMPLETE", "ok"),
        ("UPDATE_IN_PROGRESS", "WARN"),
        ("UPDATE_ROLLBACK_COMPLETE", "WARN"),
        ("ROLLBACK_COMPLETE", "FAIL"),
        ("UPDATE_ROLLBACK_FAILED", "FAIL"),
        ("CREATE_FAILED", "FAIL"),
        ("DELETE_IN_PROGRESS", "FAIL"),
    ],
)
def test_stack_status(status, verdict):
    # Given a stack in each state moto never leaves a stack in
    # Then the verdict follows whether it is usable
    assert check_stack(stack(status), "S", "us-east-1").status == verdict


def test_stack_missing_an_output_fails():
    # Given an older stack without the rule's output
    result = check_stack(stack(RuleName=""), "S", "us-east-1")
    # Then the check names it and says to deploy again
    assert (result.status, result.detail) == ("FAIL", "S (CREATE_COMPLETE) lacks outputs: RuleName")
    assert result.fix is not None and "npx cdk deploy" in result.fix


def test_a_failed_stack_is_reported_by_its_status_not_its_missing_outputs():
    # Given a stack whose creation rolled back: CloudFormation deleted its resources, it has no outputs
    result = check_stack(stack("ROLLBACK_COMPLETE", **dict.fromkeys(OUTPUTS, "")), "S", "us-east-1")
    # Then the check says it rolled back, and where to read why
    assert result == Verdict(
        "FAIL",
        "S is ROLLBACK_COMPLETE",
        "read why (aws cloudformation describe-stack-events --stack-name S), then deploy again",
    )
    # Given a stack still being created (no outputs yet): the fix is to wait, not to deploy again
    creating = check_stack(stack("CREATE_IN_PROGRESS", **dict.fromkeys(OUTPUTS, "")), "S", "us-east-1")
    assert creating.status == "FAIL" and creating.fix is not None and creating.fix.startswith("wait until it completes")


@pytest.mark.parametrize(
    ("severity", "floor"),
    [
        ([{"numeric": [">=", 7]}], 7.0),
        ([{"numeric": [">=", 4.5]}], 4.5),
        ([{"numeric": [">=", True]}], None),  # a boolean is not a number
        ([{"numeric": [">=", "4"]}], None),  # EventBridge rejects a string there
        ([{"numeric": [">", 4]}], None),
        ([{"numeric": [">=", 4]}, {"numeric": [">=", 7]}], None),
        ("x", None),
    ],
)
def test_severity_floor(severity, floor):
    assert severity_floor({"detail": {"severity": severity}}) == floor


def rule(pattern: object, targets: tuple[str, ...] = (f"arn:aws:lambda:us-east-1:1:function:{FUNCTION}",)) -> RuleInfo:
    return RuleInfo("R", "ENABLED", json.dumps(pattern), targets)


def test_rule_with_another_pattern_or_target_fails():
    severity = {"detail": {"severity": [{"numeric": [">=", 4]}]}}
    # Given the rule's pattern without the detail-type
    result = check_rule(rule({"source": ["aws.guardduty"], **severity}), threshold="4.0", function_name=FUNCTION)
    assert result.status == "FAIL" and "is not the stack's" in result.detail
    # Given a rule that invokes another function (a versioned target of ours is fine)
    other = rule({**PATTERN, **severity}, ("arn:aws:lambda:us-east-1:1:function:Other",))
    assert check_rule(other, threshold="4.0", function_name=FUNCTION).status == "FAIL"
    versioned = rule({**PATTERN, **severity}, (f"arn:aws:lambda:us-east-1:1:function:{FUNCTION}:live",))
    assert check_rule(versioned, threshold="4.0", function_name=FUNCTION).status == "ok"
    # Given a pattern that is not JSON
    broken = RuleInfo("R", "ENABLED", "{", ())
    assert check_rule(broken, threshold="4.0", function_name=FUNCTION).status == "FAIL"


def policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


TLS_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}


def allow(condition: dict[str, object] | None = None, **fields: object) -> dict[str, object]:
    """CloudWatch's Allow to publish to the alarm topic, as the stack writes it, with ``condition``."""
    statement = {"Effect": "Allow", "Principal": CLOUDWATCH, "Action": "sns:Publish", "Resource": TOPIC, **fields}
    return statement | ({"Condition": condition} if condition else {})


def deny(condition: dict[str, object] | None = None, **fields: object) -> dict[str, object]:
    """A Deny of publishing to the alarm topic for everyone, with ``condition``; a field given None is left out."""
    statement = {"Sid": "Guard", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC}
    statement = {k: v for k, v in (statement | fields).items() if v is not None}
    return statement | ({"Condition": condition} if condition else {})


OTHER = "999999999999"
THE_STACKS = {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {"aws:SourceArn": [ALARM_A, ALARM_B]}}


@pytest.mark.parametrize(
    ("document", "verdict"),
    [
        (policy(TLS_DENY), "FAIL"),  # what enforce_ssl alone leaves
        (policy(TLS_DENY, allow()), "ok"),
        (policy(TLS_DENY, allow(THE_STACKS)), "ok"),  # the deployed shape
        (policy(allow({"StringEquals": {"aws:SourceAccount": "210987654321"}})), "FAIL"),  # another account
        (policy(allow({"ArnEquals": {"aws:SourceArn": ALARM_B}})), "FAIL"),  # another alarm
        (policy(allow({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{ACCOUNT}:alarm:*"}})), "ok"),
        (policy(allow({"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:210987654321:alarm:*"}})), "FAIL"),
        (policy(allow({"StringLike": {"aws:SourceArn": f"*:{ACCOUNT}:alarm:A"}})), "ok"),
        (policy(allow({"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {"aws:SourceArn": ALARM_B}})),
         "FAIL"),  # every operator must hold
        (policy(allow({"NumericLessThan": {"aws:SourceAccount": 2}})), "FAIL"),  # not evaluated: not proven
        (policy(allow(Resource=f"{TOPIC}-other")), "FAIL"),
        (policy(allow(Principal={"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
                      Action=["SNS:Publish"])), "ok"),
        # SNS's default policy: every principal of the account (AWS:SourceOwner) may publish
        (policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["SNS:Subscribe", "SNS:Publish"],
                 "Resource": TOPIC, "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}), "ok"),
        (policy(allow(Action="sns:*")), "ok"),
        (policy(allow(Action="sns:Subscribe")), "FAIL"),
        (policy(allow(Principal={"Service": "events.amazonaws.com"})), "FAIL"),
        # A Deny that applies beats any Allow: unconditional, or for this alarm
        (policy(allow(), {"Effect": "Deny", "Principal": "*", "Action": "sns:*"}), "FAIL"),
        (policy(allow(), {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                          "Condition": {"ArnEquals": {"aws:SourceArn": ALARM_A}}}), "FAIL"),
        # The negated forms are evaluated: a Deny that refuses every request but those of another account,
        # another alarm, another principal, another action or another resource refuses this one
        (policy(allow(), deny({"StringNotEquals": {"aws:SourceAccount": OTHER}})), "FAIL"),
        (policy(allow(), deny({"StringNotEqualsIfExists": {"aws:SourceAccount": OTHER}})), "FAIL"),
        (policy(allow(), deny({"StringNotLike": {"aws:SourceArn": "*:alarm:B"}})), "FAIL"),
        (policy(allow(), deny({"ArnNotEquals": {"aws:SourceArn": [ALARM_B, f"{ALARM_B}2"]}})), "FAIL"),
        (policy(allow(), deny({"ArnNotLike": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{OTHER}:alarm:*"}})), "FAIL"),
        (policy(allow(), deny({"StringNotEquals": {"aws:PrincipalServiceName": "events.amazonaws.com"}})), "FAIL"),
        (policy(allow(), deny({"Null": {"aws:SourceArn": "false"}})), "FAIL"),  # the key is present
        (policy(allow(), deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), "FAIL"),
        (policy(allow(), deny(Action=None, NotAction="sns:Subscribe")), "FAIL"),
        (policy(allow(), deny(Resource=None, NotResource=f"{TOPIC}-other")), "FAIL"),
        # ... and a Deny whose negation excludes CloudWatch's request does not refuse it
        (policy(allow(), deny({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}})), "ok"),
        (policy(allow(), deny({"StringNotEqualsIfExists": {"aws:SourceAccount": [OTHER, ACCOUNT]}})), "ok"),
        (policy(allow(), deny({"ArnNotLike": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{ACCOUNT}:alarm:*"}})), "ok"),
        (policy(allow(), deny({"Null": {"aws:SourceArn": "true"}})), "ok"),  # the key is present
        (policy(allow(), deny({"Bool": {"aws:SecureTransport": "false"}})), "ok"),
        (policy(allow(), deny(Principal=None, NotPrincipal=CLOUDWATCH)), "ok"),
        (policy(allow(), deny(Action=None, NotAction=["sns:Publish"])), "ok"),
        (policy(allow(), deny(Resource=None, NotResource=TOPIC)), "ok"),
        (policy(allow(), deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), "ok"),  # not CloudWatch
        # A negated Allow is evaluated too: it allows CloudWatch's request unless it excludes it
        (policy(allow({"StringNotEquals": {"aws:SourceAccount": OTHER}})), "ok"),
        (policy(allow({"ArnNotEquals": {"aws:SourceArn": ALARM_A}})), "FAIL"),
        # A Deny that may apply but cannot be evaluated is a warning, never ok (an Allow such is not allowing)
        (policy(allow(), deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})), "WARN"),
        (policy(allow(), deny({"NumericLessThan": {"aws:SourceAccount": 2}})), "WARN"),
        (policy(allow(), deny({"StringNotEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}})), "WARN"),
        (policy(allow(), deny({"ForAnyValue:StringEquals": {"aws:TagKeys": "x"}})), "WARN"),
        (policy(allow(), deny(Principal=None)), "WARN"),  # neither Principal nor NotPrincipal
        (policy(allow({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})), "FAIL"),
        # A Deny that cannot be evaluated in one element but excludes the request in another does not apply
        (policy(allow(), deny({"NumericLessThan": {"aws:SourceAccount": 2}}, Action="sns:Subscribe")), "ok"),
        (None, "FAIL"),
        ("not json", "FAIL"),
    ],
)  # fmt: skip
def test_alarm_topic_policy_for_the_stacks_alarm(document, verdict):
    # Given alarm A of the stack, which notifies the alarm topic, and the topic's policy
    alarms = [AlarmInfo("A", ALARM_A, "OK", True, (TOPIC,))]
    # Then the check passes only when SNS would let CloudWatch publish for A
    result = check_alarm_policy(document, topic_arn=TOPIC, account=ACCOUNT, alarms=alarms, stack_alarms=["A"])
    assert result.status == verdict


def test_alarm_topic_policy_names_every_alarm_it_refuses():
    # Given the deployed policy (alarms A and B), a stack alarm C it leaves out, an alarm of the
    # operator's own on the topic, and a stack alarm that notifies another topic
    alarms = [
        AlarmInfo("A", ALARM_A, "OK", True, (TOPIC,)),
        AlarmInfo("C", ALARM_A.replace(":A", ":C"), "OK", True, (TOPIC,)),
        AlarmInfo("Mine", ALARM_A.replace(":A", ":Mine"), "OK", True, (TOPIC,)),
        AlarmInfo("Elsewhere", ALARM_A.replace(":A", ":Elsewhere"), "OK", True, ("arn:aws:sns:::other",)),
    ]
    document = policy(TLS_DENY, allow(THE_STACKS))
    # When the policy is checked for them
    result = check_alarm_policy(
        document, topic_arn=TOPIC, account=ACCOUNT, alarms=alarms, stack_alarms=["A", "C", "Elsewhere"]
    )
    # Then C and Mine are named, each with its own fix; the alarm of another topic is not the policy's concern
    assert result.status == "FAIL"
    assert result.detail.startswith("the alarm topic's policy does not let cloudwatch.amazonaws.com publish for ")
    assert "the stack's alarms C: " in result.detail and "refuses them: Mine" in result.detail
    assert "Elsewhere" not in result.detail and "A," not in result.detail
    assert result.fix is not None and "--revert-drift" in result.fix and "a topic of your own" in result.fix
    # Given no alarm that notifies the topic: nothing to check the policy against (the alarms check fails)
    assert check_alarm_policy(document, topic_arn=TOPIC, account=ACCOUNT, alarms=[], stack_alarms=[]).status == "WARN"


def test_alarm_topic_policy_names_each_deny_it_cannot_evaluate():
    # Given the deployed policy with two Deny statements the doctor cannot evaluate (one without a Sid),
    # and one it can, which does not apply to CloudWatch's request
    alarms = [AlarmInfo("A", ALARM_A, "OK", True, (TOPIC,)), AlarmInfo("B", ALARM_B, "OK", True, (TOPIC,))]
    unknown = {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}
    document = policy(
        TLS_DENY,
        allow(THE_STACKS),
        deny(unknown, Sid="OrgOnly"),
        deny(unknown, Sid=None),
        deny(Sid="Evaluated", Principal=None, NotPrincipal=CLOUDWATCH),
    )
    # When the policy is checked
    result = check_alarm_policy(document, topic_arn=TOPIC, account=ACCOUNT, alarms=alarms, stack_alarms=["A", "B"])
    # Then it warns, naming each such Deny by its Sid (or its position), once, and what to check
    assert result == Verdict(
        "WARN",
        "the alarm topic's policy lets cloudwatch.amazonaws.com publish, but Deny statements the doctor "
        "cannot evaluate may refuse it: OrgOnly, statement 4",
        "check that they do not apply to cloudwatch.amazonaws.com publishing with aws:SourceAccount "
        f"{ACCOUNT} and aws:SourceArn of the alarms (A, B); otherwise alarm actions fail",
    )
    # Given a Deny that certainly applies as well: the refusal wins
    refused = policy(allow(), deny(unknown), deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert (
        check_alarm_policy(refused, topic_arn=TOPIC, account=ACCOUNT, alarms=alarms, stack_alarms=["A", "B"]).status
        == "FAIL"
    )


def key_policy(account: str = ACCOUNT, actions: object = ("kms:Decrypt", "kms:GenerateDataKey*")) -> str:
    """The alarm topic key's CloudWatch statement as the stack writes it, for requests from ``account``."""
    return policy(
        {
            "Effect": "Allow",
            "Principal": CLOUDWATCH,
            "Action": list(actions) if isinstance(actions, tuple) else actions,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )


def test_keys():
    good = KeyInfo("k", "Enabled", aws_managed=False, policy=key_policy())
    assert check_keys(good, good, account=ACCOUNT).status == "ok"
    # Given the AWS managed key on the alarm topic: CloudWatch cannot use it
    managed = KeyInfo("aws-sns", "Enabled", aws_managed=True, policy=None)
    assert "AWS managed key" in check_keys(good, managed, account=ACCOUNT).detail
    # Given the key scheduled for deletion: the fix cancels the deletion first
    doomed = KeyInfo("k", "PendingDeletion", aws_managed=False, policy=key_policy())
    result = check_keys(doomed, good, account=ACCOUNT)
    assert (
        result.status == "FAIL"
        and result.fix == "aws kms cancel-key-deletion --key-id k && aws kms enable-key --key-id k"
    )
    # Given a key policy granting CloudWatch Decrypt only, or only for another account's requests
    for document in (key_policy(actions="kms:Decrypt"), key_policy(account="210987654321")):
        alarm_key = KeyInfo("k", "Enabled", aws_managed=False, policy=document)
        assert check_keys(good, alarm_key, account=ACCOUNT).status == "FAIL"
    # Given the key's Deny statements: the evaluated ones that apply refuse, one not evaluated warns by its Sid
    base = json.loads(key_policy())["Statement"]
    key_deny = {"Sid": "KeyGuard", "Effect": "Deny", "Resource": "*"}
    for extra, verdict in (
        ({"Principal": "*", "Action": "kms:*", "Condition": {"StringNotEquals": {"aws:SourceAccount": OTHER}}}, "FAIL"),
        ({"NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*"}, "FAIL"),
        ({"Principal": "*", "NotAction": "kms:ScheduleKeyDeletion"}, "FAIL"),
        ({"Principal": "*", "NotAction": "kms:*"}, "ok"),
        ({"Principal": "*", "Action": "kms:*", "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}}, "ok"),
        # CloudWatch's alarm ARN is not known for the key: a condition on it cannot be evaluated
        (
            {"Principal": "*", "Action": "kms:*", "Condition": {"ArnNotLike": {"aws:SourceArn": "arn:*:alarm:*"}}},
            "WARN",
        ),
    ):
        alarm_key = KeyInfo("k", "Enabled", aws_managed=False, policy=policy(*base, key_deny | extra))
        result = check_keys(good, alarm_key, account=ACCOUNT)
        assert result.status == verdict, extra
        assert ("KeyGuard" in result.detail) == (verdict == "WARN")
    # Given an alarm topic without a KMS key
    assert check_keys(good, None, account=ACCOUNT).detail == "enabled (the alarm topic has no KMS key)"


def test_alarm_of_the_stack_without_the_topic_action_or_deleted_fails():
    # Given a stack alarm whose action no longer names the alarm topic (found through the stack's resources)
    alarms = [AlarmInfo("A", ALARM_A, "OK", True, (TOPIC,)), AlarmInfo("B", ALARM_B, "OK", True, ())]
    result = check_alarms(alarms, stack_alarms=["A", "B"], topic_arn=TOPIC)
    # Then it is named as notifying no one
    assert (result.status, result.detail) == ("FAIL", "alarms that notify no one: B")
    assert check_alarms([], stack_alarms=[], topic_arn=TOPIC).status == "FAIL"
    # Given a stack alarm that CloudWatch no longer has (deleted outside CloudFormation)
    result = check_alarms(alarms[:1], stack_alarms=["A", "B"], topic_arn=TOPIC)
    # Then it is named as deleted, with the deploy that puts it back
    assert (result.status, result.detail) == ("FAIL", "alarms of the stack deleted outside CloudFormation: B")
    assert result.fix is not None and result.fix.startswith("npx cdk deploy --revert-drift")
    assert check_alarms([], stack_alarms=["A"], topic_arn=TOPIC).detail.endswith("deleted outside CloudFormation: A")
    # Given one alarm, healthy: counted in the singular
    assert check_alarms(alarms[:1], stack_alarms=["A"], topic_arn=TOPIC) == Verdict(
        "ok", "1 alarm, none in ALARM, each notifies the alarm topic"
    )


def test_subscriptions_all_pending_fails_and_none_expected_warns():
    pending = TopicInfo(TOPIC, None, None, (Subscription("email", "a@example.com", pending=True),))
    result = check_subscriptions(pending, ["a@example.com"], missing_fix="f")
    assert result.status == "FAIL" and "1 pending confirmation (a@example.com)" in result.detail
    nobody = TopicInfo(TOPIC, None, None, ())
    assert check_subscriptions(nobody, [], missing_fix="f") == Verdict(
        "WARN", "nobody is subscribed: it reaches no one", "f"
    )
    assert check_subscriptions(nobody, ["a@example.com"], missing_fix="f").status == "FAIL"


def test_sender_missing_pending_or_verified_by_domain():
    # Given the ses channel without a sender (the template rule refuses it; an edited stack may not)
    assert check_sender("", {}, "us-east-1").fix == "npx cdk deploy --parameters SenderAddress=<verified address>"
    # Given the sender's address still pending verification (moto verifies at once)
    result = check_sender("alerts@example.com", {"alerts@example.com": "Pending"}, "us-east-1")
    assert result.status == "FAIL" and "(address: Pending, domain example.com: not set up)" in result.detail
    # Given its domain verified instead
    assert check_sender("alerts@example.com", {"example.com": "Success"}, "us-east-1").status == "ok"


def test_ses_account_in_production_below_the_account_rate():
    account = SesAccount(production=True, sending_enabled=True, max_send_rate=14, max_24h=50_000, sent_24h=3)
    result = check_ses_account(account, configured_rate="1", recipients=["a@example.com"], statuses={})
    assert result.status == "ok"
    assert result.detail == (
        "production access, sending enabled, SesMaxSendRate 1/s (the account allows 14/s), 3 of 50000 sent in 24 hours"
    )


def test_detector_one_hour_warns():
    result = check_detector([DetectorInfo("d", "ENABLED", "ONE_HOUR")], "us-east-1")
    assert result.status == "WARN" and "up to 1 hour late" in result.detail


def test_report_exit_status_and_lines():
    results = [Result("a", "ok", "fine"), Result("b", "WARN", "hm", "do x")]
    text, status = report(results)
    assert status == 0
    assert text == "ok   a: fine\nWARN b: hm -> fix: do x\n0 FAIL, 1 WARN, 1 ok"
    assert report([*results, Result("c", "FAIL", "no")])[1] == 1


def test_runbooks_deployed_at_their_latest_version_pass():
    # Given the six runbooks, each running its latest version
    result = check_runbooks(dict.fromkeys(RUNBOOK_NAMES, ("3", "3")), "eu-west-1")
    # Then ok, naming how many and where
    assert (result.status, result.detail) == ("ok", "6 runbooks deployed in eu-west-1, each at its latest version")
    assert len(RUNBOOK_NAMES) == 6 and all(name.startswith("GuardDutyResponder-") for name in RUNBOOK_NAMES)


def test_a_missing_runbook_fails_and_an_old_default_version_warns_with_the_exact_fix():
    # Given one runbook missing and one whose default version is not its latest (CloudFormation's NewVersion bug)
    isolate, archive, *others = RUNBOOK_NAMES
    versions = {isolate: None, archive: ("1", "2"), **dict.fromkeys(others, ("1", "1"))}
    # When the doctor checks them
    result = check_runbooks(versions, "us-east-1")
    # Then FAIL naming the missing one, and the command that makes the latest version the default
    assert result.status == "FAIL"
    assert result.detail == (
        f"runbooks not deployed in us-east-1: {isolate} (the emails' commands fail); "
        f"{archive} runs version 1, not its latest (2)"
    )
    assert result.fix is not None
    assert (
        f"aws ssm update-document-default-version --name {archive} --document-version 2 --region us-east-1"
        in result.fix
    )


def test_an_old_default_version_alone_warns():
    # Given every runbook present, one on an older version
    versions = dict.fromkeys(RUNBOOK_NAMES, ("4", "4")) | {RUNBOOK_NAMES[0]: ("3", "4")}
    # Then a warning only (the old content still runs)
    assert check_runbooks(versions, "us-east-1").status == "WARN"
