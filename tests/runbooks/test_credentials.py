"""The credentials runbook (and its reversal) on the embedded IAM: keys deactivated, sessions revoked."""

from __future__ import annotations

import datetime
import json
from typing import Any

import boto3
import pytest

from infra.runbooks.documents import REVOKE_POLICY_NAME
from tests.runbooks.conftest import APPROVAL, FINDING_ID, document
from tests.runbooks.runner import ParameterError, run

SESSION_KEY = "ASIAQWERTYUIOPASDFGH"  # temporary credentials (the key of a session, not of a user)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def _user_with_key(session: boto3.Session, name: str = "build-bot") -> str:
    iam = session.client("iam")
    iam.create_user(UserName=name)
    key: str = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    assert key.startswith("AKIA")
    return key


def _status(session: boto3.Session, user: str, key: str) -> str:
    keys = session.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(str(k["Status"]) for k in keys if k["AccessKeyId"] == key)


def _assert_revokes_older_sessions(policy: dict[str, Any]) -> None:
    # The deny-all the IAM console's "Revoke active sessions" writes, dated now.
    (statement,) = policy["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", ["*"], ["*"])
    issued = statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    when = datetime.datetime.strptime(issued, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert datetime.timedelta(0) <= datetime.datetime.now(datetime.UTC) - when < datetime.timedelta(minutes=1)


def test_a_long_term_key_becomes_inactive(session: boto3.Session) -> None:
    # Given a user's access key (AKIA)
    key = _user_with_key(session)
    # When the credentials runbook runs with the key and its user
    parameters = {"AccessKeyId": key, "UserName": "build-bot", "FindingId": FINDING_ID}
    execution = run(document("credentials"), parameters, session=session)
    # Then the key is Inactive, and deactivating was the only call
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    assert _status(session, "build-bot", key) == "Inactive"
    assert [(service, api) for service, api, _ in execution.calls] == [("iam", "UpdateAccessKey")]
    assert execution.outputs["Plan.Target"] == "key"


def test_reactivate_brings_the_key_back(session: boto3.Session) -> None:
    # Given a deactivated key
    key = _user_with_key(session)
    run(
        document("credentials"),
        {"AccessKeyId": key, "UserName": "build-bot", "FindingId": FINDING_ID},
        session=session,
    )
    # When the reactivate runbook runs / Then the key is Active again
    execution = run(document("reactivate"), {"AccessKeyId": key, "UserName": "build-bot"}, session=session)
    assert execution.status == "Success"
    assert _status(session, "build-bot", key) == "Active"


def test_a_session_of_an_assumed_role_is_revoked_on_the_role(session: boto3.Session) -> None:
    # Given a role whose session key (ASIA) was stolen
    session.client("iam").create_role(RoleName="web-app", AssumeRolePolicyDocument=TRUST)
    # When the credentials runbook runs with the key and the role
    parameters = {"AccessKeyId": SESSION_KEY, "RoleName": "web-app", "FindingId": FINDING_ID}
    execution = run(document("credentials"), parameters, session=session)
    # Then the role carries the deny-all for sessions issued before now; the role was checked first
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    answer = session.client("iam").get_role_policy(RoleName="web-app", PolicyName=REVOKE_POLICY_NAME)
    document_ = answer["PolicyDocument"]
    _assert_revokes_older_sessions(document_ if isinstance(document_, dict) else json.loads(document_))
    assert [api for _, api, _ in execution.calls] == ["GetRole", "PutRolePolicy"]


def test_a_wrong_role_name_fails_before_any_change(session: boto3.Session) -> None:
    # Given no such role / When the runbook names it / Then it fails at the check and writes nothing
    parameters = {"AccessKeyId": SESSION_KEY, "RoleName": "no-such-role", "FindingId": FINDING_ID}
    execution = run(document("credentials"), parameters, session=session)
    assert execution.status == "Failed"
    assert [api for _, api, _ in execution.calls] == ["GetRole"]


def test_a_session_of_a_user_is_revoked_on_the_user(session: boto3.Session) -> None:
    # Given a user whose GetSessionToken key (ASIA) was stolen
    session.client("iam").create_user(UserName="alice")
    # When the runbook runs with the key and the user
    parameters = {"AccessKeyId": SESSION_KEY, "UserName": "alice", "FindingId": FINDING_ID}
    execution = run(document("credentials"), parameters, session=session)
    # Then the user carries the deny-all for older sessions
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    answer = session.client("iam").get_user_policy(UserName="alice", PolicyName=REVOKE_POLICY_NAME)
    document_ = answer["PolicyDocument"]
    _assert_revokes_older_sessions(document_ if isinstance(document_, dict) else json.loads(document_))
    assert [api for _, api, _ in execution.calls] == ["PutUserPolicy"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"AccessKeyId": SESSION_KEY, "FindingId": FINDING_ID},
        {"AccessKeyId": "AKIAQWERTYUIOPASDFGH", "FindingId": FINDING_ID},
    ],
    ids=["session-without-role-or-user", "key-without-user"],
)
def test_without_a_principal_to_act_on_nothing_is_called(session: boto3.Session, parameters: dict[str, str]) -> None:
    # Given a key with no role or user to act on / When the runbook runs / Then it fails with no AWS call
    execution = run(document("credentials"), parameters, session=session)
    assert execution.status == "Failed"
    assert execution.calls == []
    assert execution.step("Plan").error is not None


def test_rejected_approval_leaves_the_key_active(session: boto3.Session) -> None:
    # Given approvers and a key / When the approver rejects / Then no call was made and the key is Active
    key = _user_with_key(session)
    parameters = {"AccessKeyId": key, "UserName": "build-bot", "FindingId": FINDING_ID}
    execution = run(
        document("credentials", approval=APPROVAL), parameters, session=session, approve=lambda inputs: False
    )
    assert execution.status == "Failed"
    assert execution.calls == []
    assert _status(session, "build-bot", key) == "Active"


def test_reactivation_waits_for_a_second_person(session: boto3.Session) -> None:
    # Given approvers and a deactivated key
    key = _user_with_key(session)
    run(
        document("credentials"),
        {"AccessKeyId": key, "UserName": "build-bot", "FindingId": FINDING_ID},
        session=session,
    )
    reactivate = document("reactivate", approval=APPROVAL)
    parameters = {"AccessKeyId": key, "UserName": "build-bot"}
    # When the approver rejects / Then no call was made and the key stays Inactive
    rejected = run(reactivate, parameters, session=session, approve=lambda inputs: False)
    assert rejected.status == "Failed"
    assert rejected.calls == []
    assert _status(session, "build-bot", key) == "Inactive"
    # When nobody has decided yet / Then the execution waits, still without a call
    waiting = run(reactivate, parameters, session=session, approve=lambda inputs: None)
    assert waiting.status == "Waiting"
    assert waiting.calls == []
    # When the approver approves / Then the key is Active, after the approval step
    approved = run(reactivate, parameters, session=session)
    assert approved.status == "Success"
    assert [step.name for step in approved.steps] == ["Approve", "ReactivateKey"]
    assert approved.steps[0].inputs["Approvers"] == APPROVAL["approvers"]
    assert _status(session, "build-bot", key) == "Active"


@pytest.mark.parametrize(
    ("key", "parameters"),
    [
        ("credentials", {"AccessKeyId": "AKIA$(id)", "UserName": "u", "FindingId": FINDING_ID}),
        ("credentials", {"AccessKeyId": SESSION_KEY, "UserName": "x y", "FindingId": FINDING_ID}),
        ("reactivate", {"AccessKeyId": SESSION_KEY, "UserName": "alice"}),  # a session key cannot be reactivated
    ],
)
def test_invalid_parameters_never_start(session: boto3.Session, key: str, parameters: dict[str, str]) -> None:
    # Given values outside the patterns / When started / Then refused before any step
    with pytest.raises(ParameterError):
        run(document(key), parameters, session=session)
