"""Suppression: operator rules by finding type, account and resource tag."""

from __future__ import annotations

import pytest

from responder.domain.classify import assess, decide
from responder.domain.models import GuardDutyEvent
from responder.domain.settings import Settings, SettingsError
from responder.domain.suppression import resource_tags, suppressed_by
from tests.conftest import finding_from, minimal_event


def finding(**detail):
    return GuardDutyEvent.model_validate(minimal_event("Recon:EC2/PortProbeUnprotectedPort", 5.0, **detail)).detail


@pytest.mark.parametrize(
    ("patterns", "rule"),
    [
        (("Recon:EC2/PortProbe*",), "finding type matches Recon:EC2/PortProbe*"),
        (("*:EC2/*",), "finding type matches *:EC2/*"),
        (("Recon:EC2/PortProbeUnprotectedPort",), "finding type matches Recon:EC2/PortProbeUnprotectedPort"),
        (("recon:ec2/*",), None),  # case-sensitive, as GuardDuty types are
        (("Backdoor:*", "UnauthorizedAccess:*"), None),
    ],
)
def test_type_patterns(patterns, rule):
    assert suppressed_by(finding(), Settings(suppress_types=patterns)) == rule


def test_accounts():
    assert suppressed_by(finding(), Settings(suppress_accounts=("123456789012",))) == "account 123456789012"
    assert suppressed_by(finding(), Settings(suppress_accounts=("210987654321",))) is None


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Instance", "instanceDetails": {"tags": [{"key": "guardduty", "value": "quiet"}]}},
        {
            "resourceType": "EKSCluster",
            "eksClusterDetails": {"name": "c", "tags": [{"key": "guardduty", "value": "quiet"}]},
        },
        {
            "resourceType": "S3Bucket",
            "s3BucketDetails": [{"name": "b"}, {"name": "c", "tags": [{"key": "guardduty", "value": "quiet"}]}],
        },
        {
            "resourceType": "Lambda",
            "lambdaDetails": {"functionName": "f", "tags": [{"key": "guardduty", "value": "quiet"}]},
        },
    ],
)
def test_resource_tag_on_any_resource_block(resource):
    settings = Settings(suppress_tag=("guardduty", "quiet"))
    assert suppressed_by(finding(resource=resource), settings) == "resource tag guardduty=quiet"
    assert suppressed_by(finding(resource=resource), Settings(suppress_tag=("guardduty", "loud"))) is None


def test_real_sample_tags_are_read():
    tags = resource_tags(finding_from("events/Discovery_Kubernetes_TorIPCaller.json").resource)
    assert ("GeneratedFindingEKSClusterTag1", "GeneratedFindingEKSClusterTagValue1") in {(t.key, t.value) for t in tags}
    assert resource_tags(None) == []


def test_suppressed_findings_are_skipped_with_their_rule():
    settings = Settings(suppress_types=("Recon:*",))
    decision = decide(assess(finding(), settings), settings)
    assert (decision.notify, decision.reason, decision.detail) == (False, "suppressed", "finding type matches Recon:*")
    # The threshold is checked first: a finding below it is reported as below the threshold.
    low = GuardDutyEvent.model_validate(minimal_event("Recon:EC2/Portscan", 2.0)).detail
    assert decide(assess(low, settings), settings).reason == "below_threshold"


def test_settings_parse_suppression_variables():
    s = Settings.from_env(
        {
            "SUPPRESS_FINDING_TYPES": "Recon:EC2/PortProbe*, ,UnauthorizedAccess:EC2/SSHBruteForce",
            "SUPPRESS_ACCOUNTS": "123456789012,210987654321",
            "SUPPRESS_TAG": "guardduty=quiet",
        },
    )
    assert s.suppress_types == ("Recon:EC2/PortProbe*", "UnauthorizedAccess:EC2/SSHBruteForce")
    assert s.suppress_accounts == ("123456789012", "210987654321")
    assert s.suppress_tag == ("guardduty", "quiet")
    assert Settings.from_env({"SUPPRESS_TAG": "scanner="}).suppress_tag == ("scanner", "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SUPPRESS_FINDING_TYPES", "Recon:EC2/<script>"),
        ("SUPPRESS_ACCOUNTS", "1234"),
        ("SUPPRESS_TAG", "no-equals-sign"),
        ("SUPPRESS_TAG", "a=b,c=d"),
    ],
)
def test_bad_suppression_settings_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=f"^{name}"):
        Settings.from_env({name: value})
