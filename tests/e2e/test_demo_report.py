"""The demo's out/demo/: each email's SNS and SES copies found again, whatever the email's language."""

from __future__ import annotations

import email
import json
from email.policy import default
from pathlib import Path

import pytest

from demo import report
from demo.emulator import Sent
from responder.adapters.channels import build_mime
from responder.domain.classify import classify
from responder.domain.export import attachments
from responder.domain.models import Finding
from responder.domain.render import render
from responder.domain.settings import Settings
from tests.conftest import load

SENDER, RECIPIENTS = "alerts@example.com", ["secops@example.com"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_each_email_gets_its_sns_and_ses_files_in_any_language(tmp_path: Path, lang: str):
    # Given one alert as both channels sent it: SNS with the ASCII subject, SES with the
    # subject in the email's language and the finding's JSON attached
    detail = load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"]
    settings = Settings(language=lang)
    alert = render(classify(Finding.model_validate(detail), settings), settings.locale)
    files = attachments([detail])
    raw = build_mime(alert, SENDER, RECIPIENTS, files).decode("ascii")
    subject = str(email.message_from_string(raw, policy=default)["Subject"])
    sent = [
        Sent(
            "sns", ("arn:aws:sns:us-east-1:123456789012:alerts",), alert.subject, alert.text, reaches=("a@example.com",)
        ),
        Sent("ses", tuple(RECIPIENTS), subject, raw, reaches=tuple(RECIPIENTS)),
    ]
    mails = report.mails_sent(sent, "sns,ses", lang)
    result = report.Result(
        rows=[],
        sns_messages=[(alert.subject, alert.text)],
        ses_messages=[raw],
        dead_letters=[],
        parameters={},
        mails=mails,
        sent=sent,
    )
    # When the demo writes out/demo/
    report.write(result, tmp_path)
    # Then the email has its SNS copy (English subject), its SES copy, its HTML and its JSON file
    [mail] = mails
    assert mail.subject == (alert.local_subject or alert.subject)
    names = dict(mail.files)
    assert set(names) == {"HTML", "SNS .eml", "SES .eml", "JSON"}
    sns_copy = email.message_from_bytes((tmp_path / names["SNS .eml"]).read_bytes(), policy=default)
    assert sns_copy["Subject"] == alert.subject and alert.subject.isascii()
    assert sns_copy.get_content().replace("\r\n", "\n").strip() == alert.text.strip()
    ses_copy = email.message_from_string((tmp_path / names["SES .eml"]).read_text(encoding="utf-8"), policy=default)
    assert ses_copy["Subject"] == mail.subject
    assert names["JSON"] == f"01-immediate.{files[0].filename}"
    assert json.loads((tmp_path / names["JSON"]).read_bytes()) == detail
    assert (tmp_path / "index.html").read_text(encoding="utf-8").count(names["SNS .eml"]) == 1
    # And summary.json lists both messages, each with its file and who it went to
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert [(e["channel"], e["to"], e["file"]) for e in summary] == [
        ("sns", ["arn:aws:sns:us-east-1:123456789012:alerts"], names["SNS .eml"]),
        ("ses", RECIPIENTS, names["SES .eml"]),
    ]
    assert sns_copy["To"] == "a@example.com"
