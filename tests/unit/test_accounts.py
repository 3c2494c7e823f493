"""Account names: the organisation's, else the operator's mapping, else the id alone."""

from __future__ import annotations

import pytest

from responder.domain.accounts import ACCOUNT_ID, Account, label, name_of
from responder.domain.settings import Settings, SettingsError


def test_the_organisations_name_wins_over_the_mapping():
    # Given both a directory name and a mapping name
    account = Account("111122223333", "payments-prod")
    # Then the directory's is used
    assert name_of("111122223333", account, {"111122223333": "old-name"}) == "payments-prod"


def test_the_mapping_names_an_account_the_organisation_does_not():
    assert name_of("111122223333", Account("111122223333"), {"111122223333": "sandbox"}) == "sandbox"
    assert name_of("111122223333", None, {"111122223333": "sandbox"}) == "sandbox"


def test_a_directory_entry_for_another_account_is_not_used():
    assert name_of("111122223333", Account("444455556666", "other"), {}) is None


@pytest.mark.parametrize("name", ["", "x" * 51, "bad\r\nname", "ünïcode", "\u202ename"])
def test_a_name_no_account_can_have_is_not_shown(name):
    assert name_of("111122223333", Account("111122223333", name), {}) is None


def test_the_label_is_name_then_id_or_the_id_alone():
    assert label("111122223333", "payments-prod") == "payments-prod (111122223333)"
    assert label("111122223333", None) == "111122223333"


def test_account_names_are_read_from_the_environment():
    # Given the stack's CommaDelimitedList joined with commas
    settings = Settings.from_env({"ACCOUNT_NAMES": "111122223333=payments-prod, 444455556666=sand box"})
    # Then each id has its name
    assert settings.account_names == {"111122223333": "payments-prod", "444455556666": "sand box"}
    assert Settings.from_env({}).account_names == {}


@pytest.mark.parametrize(
    "value",
    [
        "1111=x",
        "111122223333=",
        "111122223333",
        "111122223333=ü",
        "111122223333=" + "x" * 51,
    ],
)
def test_a_broken_mapping_is_refused_naming_the_variable_not_the_value(value):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"ACCOUNT_NAMES": value})
    assert str(error.value).startswith("ACCOUNT_NAMES:")
    assert "ü" not in str(error.value) and "=a" not in str(error.value)


def test_an_account_named_twice_keeps_its_last_name():
    # Given a copy-paste slip CloudFormation cannot see (it does not compare list items)
    settings = Settings.from_env({"ACCOUNT_NAMES": "111122223333=payments,111122223333=payments-prod"})
    # Then the functions still start, and the last name wins as in a mapping literal
    assert settings.account_names == {"111122223333": "payments-prod"}


@pytest.mark.parametrize("digits", ["\u0661" * 12, "\uff11" * 12])
def test_digits_of_other_scripts_are_no_account_id(digits):
    # Given an "account id" of Arabic-Indic or fullwidth digits (Python's \d would match them)
    # Then the mapping refuses it and the queue message's account block is not read
    with pytest.raises(SettingsError):
        Settings.from_env({"ACCOUNT_NAMES": f"{digits}=payments"})
    assert not ACCOUNT_ID.fullmatch(digits)
