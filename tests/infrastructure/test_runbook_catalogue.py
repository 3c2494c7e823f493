"""The email's runbook catalogue (responder.domain.runbooks) agrees with the deployed documents exactly:
the email builds commands from its patterns, the documents refuse what theirs refuse."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.runbooks import documents
from infra.runbooks.model import ContentContext
from responder.domain import runbooks

ROLE = "arn:aws:iam::123456789012:role/x"
# StartAutomationExecution's DocumentName pattern without ":" and "/" (those name shared documents).
NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,128}$")
# Prefixes SSM reserves for its own documents (CfnDocument's docstring).
RESERVED = ("aws", "amazon", "amzn", "awsec2", "awsconfigremediation", "awssupport")


def _content(key: str) -> dict[str, Any]:
    return documents.by_key(key).content(ContentContext(ROLE))


def test_the_same_runbooks_in_the_same_order() -> None:
    # Given both catalogues / When their keys and names are listed / Then they are the same, in email order
    assert [(s.key, s.name) for s in runbooks.SPECS] == [(r.key, r.name) for r in documents.RUNBOOKS]
    assert [s.key for s in runbooks.SPECS][:4] == ["isolate", "credentials", "public_access", "archive"]


@pytest.mark.parametrize("spec", runbooks.SPECS, ids=lambda s: s.key)
def test_parameters_patterns_and_required_sets_agree(spec: runbooks.Spec) -> None:
    # Given the document as deployed (its content, not only the Param table)
    parameters = _content(spec.key)["parameters"]
    # When the assume-role parameter every document adds is set aside
    assume = parameters.pop(runbooks.ASSUME_ROLE_PARAM)
    # Then names (in order), patterns and the required set are the email's
    assert [(name, p.get("allowedPattern")) for name, p in parameters.items()] == list(spec.params)
    assert {name for name, p in parameters.items() if "default" in p} == spec.optional
    assert assume["allowedPattern"] == runbooks.ASSUME_ROLE_PATTERN
    assert assume["default"] == ROLE


@pytest.mark.parametrize("spec", runbooks.SPECS, ids=lambda s: s.key)
def test_names_are_valid_document_names_under_the_prefix(spec: runbooks.Spec) -> None:
    # Given a runbook name / Then SSM accepts it, it is not reserved, and it carries the shared prefix
    assert NAME.fullmatch(spec.name)
    assert not spec.name.lower().startswith(RESERVED)
    assert spec.name.startswith(runbooks.PREFIX)
    assert runbooks.PREFIX == documents.PREFIX


def test_by_key_finds_each_and_refuses_unknown() -> None:
    # Given every key / When looked up on both sides / Then the same runbook; an unknown key raises
    for spec in runbooks.SPECS:
        assert runbooks.by_key(spec.key) is spec
        assert documents.by_key(spec.key).name == spec.name
    with pytest.raises(KeyError):
        runbooks.by_key("reboot")
    with pytest.raises(KeyError):
        documents.by_key("reboot")
