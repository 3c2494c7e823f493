"""Pure: the one cleaning path for every finding value an email shows.

Every attacker-controlled value goes through ``shown`` (``clean`` then ``defang``) before it
reaches a subject, a text body or an HTML body, single or grouped, in any language:

1. bounded, line breaks unified (and removed where a line structure matters);
2. every invisible character (Unicode Cc, Cf, Cs, Co, Cn and the other default-ignorable code
   points, except tab, CR and LF: bidi overrides, zero-width characters, fillers, variation
   selectors, controls) is replaced by a visible ``[U+202E]``, never silently dropped, and a
   stack of more than three combining marks on one character is cut (``[+37 marks]``);
3. defanged, matched on the NFKC form (a fullwidth full stop is a dot, fullwidth letters are
   ASCII): every URL scheme neutralised (``hxxps[://]``, ``javascript[:]``; a scheme word, a colon
   and a space is prose: ``Malicious file: /x``) and every ``:``
   before a slash, a UNC path's ``[\\\\]``, every hostname-like token ``evil[.]example``
   whatever its top-level domain, a non-ASCII host label as punycode (``xn--pple-43d[.]com``)
   unless it is Japanese, Chinese or Korean (``写真[.]jpg``), IPv4 addresses
   ``203.0.113[.]7``, ``x[@]y``. What is defanged shows in its NFKC form (as a browser resolves
   it); everything else as written, a word that NFKC turns into ASCII marked ``[≈sshd]``.

What stays readable, and why it is not a hostname: a dotted token whose last label cannot be a
top-level domain (versions ``13.6``, ``/lib/libc.so.6``, timestamps, ``BitcoinTool.B``); a user
agent's version (``Chrome/120.0.0.0``); EC2 instance types (``m5.large``); in a path fact only
(``paths``: executable, parent processes, object key, script path), every name below its first
directory (``/etc/cron.hourly/.sync``; not a ``www.`` name, nor a path holding a URL, an address
or an ARN); in prose (``shown_prose``: a title, a description) a token that is exactly the
finding's own type or one of its path facts' paths, shown as its own line shows it; in a name
(``name``: a malware threat name, a finding type), a dotted run whose last label is not a
delegated top-level domain (``Trojan.GenericKD``, ``Stateless.IntegTest``): such a value is
never a hostname, and mail clients link a dotted word only when it ends in a real top-level
domain (``Evil.com`` as a threat name stays defanged); in a finding type also GuardDuty's own
``Family.Mechanism`` names (``PromptInjection.Direct``).
"""

from __future__ import annotations

import bisect
import re
import sys
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Final

# --- invisible characters ---------------------------------------------------------------

_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_KEPT_CONTROLS: Final = "\t\n\r"  # turned into spaces or line breaks by ``clean`` itself
_CHUNK: Final = 32  # characters checked at once by str.isprintable (C) before any per-character look-up
# The default-ignorable code points that are printable (Mn, Lo): Hangul fillers, the combining
# grapheme joiner, Khmer inherent vowels, Mongolian and other variation selectors. Unicode's
# Other_Default_Ignorable_Code_Point and Variation_Selector (PropList.txt); ``unicodedata``
# has no such property. Every other default-ignorable is Cf or Cn, hidden by category.
_PRINTABLE_IGNORABLE: Final = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


class CategoryClass:
    """Unicode Cc, Cf, Cs, Co and Cn except tab, CR and LF, from this interpreter's
    ``unicodedata``, and the printable default-ignorable code points.

    A literal class goes stale (Python 3.13's Unicode 15.1 added format characters that 3.11's
    tables lack), and a regex class derived at import needs a look-up of all 1.1 million code
    points (about 150 ms of CPU, half the handler's import). Every character of these categories
    is one that ``str.isprintable`` rejects (Python: categories "Other" and "Separator"), so only
    the rare non-printable characters are looked up, 32 characters checked at a time in C; the
    few printable default-ignorables are one regex class, searched only in non-ASCII text.
    """

    def sub(self, repl: str | Callable[[str], str], text: str) -> str:
        """``text`` with each character of the class replaced by ``repl`` (or ``repl(char)``)."""
        if _printable(text) or _printable(text.replace("\n", "").replace("\t", "").replace("\r", "")):
            return text  # the common cases (one line, or lines and tabs only): nothing to look up
        replace = repl if callable(repl) else (lambda _char: repl)
        out: list[str] = []
        for start in range(0, len(text), _CHUNK):
            chunk = text[start : start + _CHUNK]
            if _printable(chunk):
                out.append(chunk)
            else:
                out.extend(replace(char) if _hidden(char) else char for char in chunk)
        return "".join(out)


def _printable(text: str) -> bool:
    """Whether ``text`` has no character of the class, tab, CR or LF (C-level checks)."""
    return text.isprintable() and (text.isascii() or _PRINTABLE_IGNORABLE.search(text) is None)


def _hidden(char: str) -> bool:
    if char.isprintable():
        return not char.isascii() and _PRINTABLE_IGNORABLE.match(char) is not None
    return char not in _KEPT_CONTROLS and unicodedata.category(char) in _HIDDEN_CATEGORIES


INVISIBLE: Final = CategoryClass()


def visible_marker(char: str) -> str:
    """``[U+202E]``: what a removed invisible character is replaced by (language-neutral)."""
    return f"[U+{ord(char):04X}]"


# --- clean -------------------------------------------------------------------------------

_SPACES: Final = re.compile(r"[ \t\f\v]+")
# Combining marks (Mn, Me) are neither word characters nor spaces: a run of four or more such
# non-ASCII characters may be a stack of marks drawn over the lines around it (checked exactly).
_MAYBE_MARK_STACK: Final = re.compile(r"[^\w\s\x00-\x7f]{4,}")
MAX_MARKS: Final = 3  # combining marks kept on one character (Vietnamese needs two)


def _cut_mark_stacks(run: re.Match[str]) -> str:
    """More than ``MAX_MARKS`` combining marks in a row: the first ones, then ``[+37 marks]``."""
    out: list[str] = []
    marks = 0
    for char in run[0]:
        if unicodedata.category(char) in ("Mn", "Me"):
            marks += 1
            if marks <= MAX_MARKS:
                out.append(char)
            continue
        if marks > MAX_MARKS:
            out.append(f"[+{marks - MAX_MARKS} marks]")
        marks = 0
        out.append(char)
    if marks > MAX_MARKS:
        out.append(f"[+{marks - MAX_MARKS} marks]")
    return "".join(out)


def clean(value: str, limit: int, *, multiline: bool = False, marker: str = "[truncated]") -> str:
    """Mark invisible characters, cut stacks of combining marks, unify line breaks, collapse
    spaces, bound.

    Without ``multiline`` the result has no line break at all (CR, LF, U+2028, NEL ...). The
    text is not normalised: ``defang`` matches on its NFKC form but shows what was written.
    """
    if _already_clean(value, limit):
        return value  # the common case, kept cheap
    return _clean(value, limit, multiline=multiline, marker=marker)


def _already_clean(value: str, limit: int) -> bool:
    """Whether ``clean`` would return ``value`` unchanged (C-level checks first)."""
    return (
        len(value) <= limit
        and _printable(value)
        and "  " not in value
        and value.strip() == value
        and (value.isascii() or _MAYBE_MARK_STACK.search(value) is None)
    )


def _clean(value: str, limit: int, *, multiline: bool, marker: str) -> str:
    # Bound the work first: a 256 KB field must not cost a full scan of every character.
    truncated = len(value) > limit * 4
    text = value[: limit * 4] if truncated else value
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = INVISIBLE.sub(visible_marker, text)  # NEL, VT, FF and the rest become visible markers
    if not text.isascii():
        text = _MAYBE_MARK_STACK.sub(_cut_mark_stacks, text)
    if not multiline:
        text = text.replace("\n", " ")
    text = "\n".join(line for raw in text.split("\n") if (line := _SPACES.sub(" ", raw).strip()))
    if truncated or len(text) > limit:
        text = text[:limit].rstrip() + " " + marker
    return text


# --- defang ------------------------------------------------------------------------------

# GuardDuty's own dotted names (ThreatFamilyName.DetectionMechanism, from its published finding
# types; one-letter mechanisms such as ``BitcoinTool.B`` never look like a domain anyway). A
# new one is shown as ``NewFamily[.]NewMechanism`` until it is added here: readable, and safe.
GUARDDUTY_DOTTED_NAMES: Final = frozenset(
    {
        *("AbusedDomainRequest.Reputation", "BitcoinDomainRequest.Reputation", "DenialOfService.Dns"),
        *("DenialOfService.Tcp", "DenialOfService.Udp", "DenialOfService.UdpOnTcpPorts"),
        *("DenialOfService.UnusualProtocol", "InstanceCredentialExfiltration.InsideAWS"),
        *("InstanceCredentialExfiltration.OutsideAWS", "MaliciousDomainRequest.Custom"),
        *("MaliciousDomainRequest.Reputation", "MaliciousFileExecuted.Custom", "MaliciousIPCaller.Custom"),
        *("MaliciousIPCaller.FailedLogin", "MaliciousIPCaller.SuccessfulLogin", "ProcessInjection.Proc"),
        *("ProcessInjection.Ptrace", "ProcessInjection.VirtualMemoryWrite", "PromptInjection.Direct"),
        *("ResourceCredentialExfiltration.InsideAWS", "ResourceCredentialExfiltration.OutsideAWS"),
        *("SuspiciousDomainRequest.Reputation", "TorIPCaller.FailedLogin", "TorIPCaller.SuccessfulLogin"),
        *("AnomalousBehavior.Delete", "AnomalousBehavior.ExecInPod", "AnomalousBehavior.FailedLogin"),
        *("AnomalousBehavior.Permission", "AnomalousBehavior.PermissionChecked"),
        *("AnomalousBehavior.RoleBindingCreated", "AnomalousBehavior.RoleCreated"),
        *("AnomalousBehavior.SecretsAccessed", "AnomalousBehavior.SuccessfulBruteForce"),
        *("AnomalousBehavior.SuccessfulLogin", "AnomalousBehavior.WorkloadDeployed", "AnomalousBehavior.Write"),
    }
)
# EC2 instance types (``m5.large``, ``c6gn.16xlarge``): the size words are not top-level domains.
# Only short runs are tried: the pattern backtracks, so a long run would cost quadratic time.
_MAX_INSTANCE_TYPE: Final = 32
_INSTANCE_TYPE: Final = re.compile(
    r"[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(?:nano|micro|small|medium|large|[0-9]*xlarge|metal(?:-[0-9]+xl)?)"
)
# Schemes that mail clients or browsers act on without ``//`` (and http, https, ftp, whose
# ``hxxp`` form readers know); any ``:`` before ``/`` or ``\`` is neutralised wherever it is.
_OPAQUE_SCHEMES: Final = (
    *("javascript", "vbscript", "livescript", "data", "mailto", "file", "ftp", "https", "http", "tel"),
    *("sms", "callto", "facetime", "news", "nntp", "about", "blob", "view-source", "jar", "intent"),
    *("search-ms", r"ms-[a-z0-9\-]{1,64}+"),  # bounded: tried at many positions, it must stay linear
)
# Lower-case literals, each its own branch: the regex engine skips a branch on its first letter.
_OPAQUE: Final = "|".join(_OPAQUE_SCHEMES)
_OPAQUE_FIRST: Final = "".join(sorted({scheme[0] for scheme in _OPAQUE_SCHEMES}))
# Host label characters: ASCII letters, digits, hyphen, and every non-ASCII character that is
# not punctuation, a separator or a control (those are masked out before matching, see _key).
# Matching runs on a lower-cased key of the text: same length.
# Written as the complement of a few ASCII ranges and U+3002: a class of all of Unicode's
# ranges costs about 8 ms to compile at import, this one next to nothing.
_LABEL_CHAR = r"[^\x00-\x2c./:-`{-\x7f\u3002]"
# U+3002 (and U+FF61, which NFKC makes U+3002) is a host's dot as browsers read it, except
# between two Japanese characters, where it ends a sentence (``確認しました。次へ``): ``_key``
# masks those, so the pattern's separator is a plain class. (Written in the pattern as
# look-arounds of a Han and kana class, it cost about 10 ms to compile at import.)
_SEPARATOR = r"[.\u3002]"
# Han and kana (iteration marks, hiragana, katakana, CJK ideographs and their extensions).
_JAPANESE: Final = (
    *((0x3005, 0x3007), (0x3041, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF)),
    *((0xF900, 0xFAFF), (0x20000, 0x3FFFF)),
)


def _linkable(label_char: str, separator: str) -> re.Pattern[str]:
    """One pass over the key: a scheme, a ``:`` before a slash, a UNC path's ``\\\\``, an IPv4
    address, a dotted run (a hostname, or a version, path, type ...: ``_replace`` decides), an
    address's @."""
    label = rf"{label_char}++"  # possessive, and a match starts only at a word's start: linear time
    return re.compile(
        # Most positions are inside a word of letters: one look-behind rules them all out.
        r"(?<![a-z])(?:"
        # A known scheme wherever it starts, unless inside a word of letters (``metadata:``):
        # ``+javascript:``, ``1https://`` and ``.http://`` are schemes to a linkifier.
        # A colon and whitespace is prose (``Malicious file: /x``): nothing follows it to link.
        rf"(?=[{_OPAQUE_FIRST}])(?P<scheme>{_OPAQUE})(?=:(?!\s)):(?P<slashes>[/\\]*)"
        # Only at a word's start: cheap tests that fail at spaces, punctuation and inside words.
        rf"|(?={label_char})(?<!{label_char})(?:"
        rf"(?<!\.)(?P<ip>\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}})\.(?P<last>\d{{1,3}})"
        rf"(?!{label_char}|{separator}{label_char})"
        rf"|(?P<run>{label}(?:{separator}{label})+)"
        r"))|(?=[:\\@])(?:"
        # Any other scheme (``ssh://``, ``x+y:\\``), wherever it is: its ``:`` and slashes.
        r"(?P<colon>:(?P<after>[/\\]+))"
        # A UNC path's two backslashes before a host; not a doubled separator inside a path (dir\\x).
        rf"|(?P<unc>(?<!{label_char})(?<!\\)\\\\(?={label_char}))"
        r"|(?P<at>(?<=\S)@(?=\S))"
        r")"
    )


_LINKABLE: Final = _linkable(_LABEL_CHAR, _SEPARATOR)
_LINKABLE_ASCII: Final = _linkable(r"[a-z0-9\-]", r"\.")  # the same for ASCII text, with smaller classes: faster
# Everything _LINKABLE changes in ASCII text contains one of these: an address, a slashed
# scheme, a dot before a letter (a last label that could be a top-level domain) or before an
# IPv4 address's digits, an opaque scheme. Timestamps, versions and finding types have none.
_DOTTED_HINT: Final = re.compile(r"\.(?:[A-Za-z]|\d{1,3}\.\d)")
_OPAQUE_HINT: Final = re.compile(rf"(?:{_OPAQUE}):")
_OPAQUE_NAME: Final = re.compile(_OPAQUE)
_SLASHES: Final = re.compile(r"[/\\]+")
_WORD: Final = re.compile(r"\w+")
_SEPARATORS: Final = re.compile(_SEPARATOR)
# A user agent's product token before its version (``Chrome/``, ``aws-cli/``): a word after a
# space, an opening bracket or the start, then ``/``.
_MAX_PRODUCT: Final = 32
_PRODUCT: Final = re.compile(rf"(?:\A|[\s(;,])[A-Za-z][\w.-]{{0,{_MAX_PRODUCT - 1}}}/\Z")
_IPV4_LIST: Final = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:, \d{1,3}(?:\.\d{1,3}){3})*")
_IPV4_LAST_DOT: Final = re.compile(r"(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,3})")
# A path fact (``paths=True``: executable, parent processes, object keys, script paths) is a
# list of paths (``, ``-separated); in each, the names below its first directory may stay
# readable: a root (``/``, ``~/``, ``./``, ``../``, ``C:\\``) is not a directory.
_PATH_ITEMS: Final = re.compile(r"(?:[^,]|,(?! ))+")
_PATH_ROOT_ONLY: Final = re.compile(r"\s*(?:~|\.{1,2}|(?P<drive>[A-Za-z]:))?[/\\]*")
_FILE_NAME_STOP: Final = re.compile(r"[\s:@]")
_PATH_KEY: Final = re.compile(r"\s*\w+=")
_NOT_A_DIRECTORY: Final = re.compile(r"[:@]|//|\\\\")
_SEPARATOR_AFTER: Final = re.compile(r"[/\\]")
# An IPv6 address (a ``::`` or eight groups), captured around its last colon.
_IPV6: Final = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7})"
    r"((?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{0,4}):([0-9A-Fa-f]{1,4})(?![\w:.])"
)
# ``ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact``, words only.
_TYPE_SHAPE: Final = re.compile(r"[A-Za-z0-9]+:[A-Za-z0-9]+/[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*(?:![A-Za-z0-9]+)?")


def defang(
    text: str, *, indicator: bool = False, paths: bool = False, finding_type: bool = False, name: bool = False
) -> str:
    """Make URLs, hosts, IPs and addresses unclickable: ``hxxp[://]``, ``evil[.]example``, ``x[@]y``.

    ``indicator`` values (remote IPs, queried domains) have every dot defanged, hostname-like or not.
    ``paths``: the value is a path fact (a list of paths), whose file names may stay readable.
    ``name``: the value is a name that is no hostname (a threat name): a dotted run stays readable
    unless its last label is a delegated top-level domain. ``finding_type``: GuardDuty's
    ``Family.Mechanism`` stays readable, and the whole value is a name when it has the type grammar.
    """
    if _unlinkable(text):
        return text  # identifiers, names, words: the common case, kept cheap
    if text.isascii():
        if _IPV4_LIST.fullmatch(text):
            return _IPV4_LAST_DOT.sub(r"\1[.]\2", text)  # IP addresses, the commonest indicator: kept cheap
        if not indicator and not _may_link(text):
            return text  # types, timestamps, versions, prose
    # A finding type is a name only in the type grammar: anything else in it is free text.
    as_name = name or (finding_type and _TYPE_SHAPE.fullmatch(text) is not None)
    return _defang(text, indicator=indicator, paths=paths, finding_type=finding_type, name=as_name)


def _unlinkable(text: str) -> bool:
    """ASCII without a dot, colon, ``@`` or ``\\\\``: nothing a linkifier acts on (C-level checks)."""
    return text.isascii() and "." not in text and ":" not in text and "@" not in text and "\\\\" not in text


def _may_link(text: str) -> bool:
    """A cheap superset of what ``_defang`` changes in ASCII text (C-level checks first)."""
    if "@" in text or ":/" in text or ":\\" in text or "\\\\" in text:
        return True
    if "." in text and _DOTTED_HINT.search(text):
        return True
    return ":" in text and _OPAQUE_HINT.search(text.lower()) is not None


def _defang(text: str, *, indicator: bool, paths: bool = False, finding_type: bool = False, name: bool = False) -> str:
    # Matched on the NFKC form (a fullwidth https:// is a scheme, a fullwidth amazon.com a host);
    # what is defanged is shown in that form (as a browser resolves it), the rest as written.
    written = text
    starts: list[int] | None = None
    ends: list[int] = []
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text, starts, ends = _normalised(text)
    if indicator and ":" in text and _IPV6.search(text):
        # An IPv6 address: its last colon defanged is enough. Only IPv6-shaped tokens: an
        # IAM action (``s3:GetObject``) is no address.
        text = written = _IPV6.sub(r"\1[:]\2", text)
        starts = None
    if text.isascii():
        key, pattern = text.lower(), _LINKABLE_ASCII
    else:
        key, pattern = _key(text), _LINKABLE
    readable = _path_names(text) if paths else []
    out: list[str] = []
    end = shown_end = 0  # in the matched text, and in the written one
    scheme_end = -1  # right after a scheme comes a host, whatever its last label (hxxp[://]x[.]y)
    for match in pattern.finditer(key):  # matched on the key, replaced in the text
        start, stop = match.span()
        if start < end:
            continue  # a scheme's colon already taken with the run before it
        first = start if starts is None else max(starts[start], shown_end)
        out.append(_as_written(written[shown_end:first], starts))
        in_file_name = bool(readable) and _within(readable, start)
        replaced = _replace(
            match,
            text,
            indicator=indicator or start == scheme_end,
            in_file_name=in_file_name,
            finding_type=finding_type,
            name=name,
        )
        if match["run"] and _scheme_colon(key, stop) and _ends_in_scheme(match["run"]):
            # A run whose last label is a scheme (a.ftp:x, evil.news:443): its colon is one too.
            slashes = _SLASHES.match(key, stop + 1)
            after = slashes[0] if slashes else ""
            replaced += f"[:{after}]"
            stop += 1 + len(after)
            scheme_end = stop
        elif (match["scheme"] or match["colon"] or match["unc"]) and replaced != text[start:stop]:
            scheme_end = stop
        last = stop if starts is None else max(ends[stop - 1], first)
        out.append(_as_written(written[first:last], starts) if replaced == text[start:stop] else replaced)
        end, shown_end = stop, last
    out.append(_as_written(written[shown_end:], starts))
    return "".join(out)


def _normalised(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC of ``text`` piece by piece (a character with its combining marks), and for each
    character of the result where its piece starts and ends in ``text``."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    first, size = 0, len(text)
    while first < size:
        stop = first + 1
        while stop < size and unicodedata.combining(text[stop]):
            stop += 1
        piece = text[first:stop]
        if not piece.isascii():
            piece = unicodedata.normalize("NFKC", piece)
        pieces.append(piece)
        starts += [first] * len(piece)
        ends += [stop] * len(piece)
        first = stop
    starts.append(size)
    return "".join(pieces), starts, ends


def _as_written(text: str, starts: list[int] | None) -> str:
    """``text`` as written, each word that NFKC turns into ASCII marked with that ASCII form
    (a fullwidth sshd shows as ``<raw>[≈sshd]``): never as the name it imitates, nor silently."""
    if starts is None or text.isascii():
        return text  # nothing in it changes under NFKC
    return _WORD.sub(_mark_look_alike, text)


def _mark_look_alike(word: re.Match[str]) -> str:
    written = word[0]
    if written.isascii():
        return written
    normal = unicodedata.normalize("NFKC", written)
    return f"{written}[\u2248{normal}]" if normal.isascii() else written


def _scheme_colon(key: str, position: int) -> bool:
    """Whether a scheme's colon is at ``position``: a ``:`` not followed by whitespace."""
    return key.startswith(":", position) and not key[position + 1 : position + 2].isspace()


def _ends_in_scheme(run: str) -> bool:
    last = run[max(run.rfind("."), run.rfind("\u3002")) + 1 :]
    return _OPAQUE_NAME.fullmatch(last) is not None


def _path_names(text: str) -> list[tuple[int, int]]:
    """Where the names below a first directory are in a path fact's paths (one linear pass):
    in ``/etc/cron.hourly/.sync``, ``/cron.hourly/.sync``."""
    spans = []
    for item in _PATH_ITEMS.finditer(text):
        first, end = item.span()
        last = max(text.rfind("/", first, end), text.rfind("\\", first, end))
        if last < 0:
            continue  # a bare name: no directory
        # The path is the word holding the last separator (``sshd (pid 7) /usr/sbin/sshd``).
        word = max(first, text.rfind(" ", first, last) + 1, text.rfind("\t", first, last) + 1)
        key = _PATH_KEY.match(text, word, last)  # scriptPath=/x/run.sh: the path follows the key
        root = _PATH_ROOT_ONLY.match(text, key.end() if key else word, last)
        if root is None or root.end() >= last:
            continue  # only a root before the name (/x.sh, ./x.sh, ~/x.sh, C:/x.sh): no directory
        if _NOT_A_DIRECTORY.search(text, root.end("drive") if root["drive"] else root.start(), last):
            continue  # a URL's host, an address, an ARN or a UNC server in it: no file path
        # The first name stays prose (``evil.page/x`` reads as a host and a path); below it,
        # every name is a directory or a file (``www.`` names aside: see ``_run``).
        below = _SEPARATOR_AFTER.search(text, root.end(), last + 1)
        stop = _FILE_NAME_STOP.search(text, last, end)  # a space, an address's @, a port's colon
        if below is not None:
            spans.append((below.start(), stop.start() if stop else end))
    return spans


def _within(spans: list[tuple[int, int]], position: int) -> bool:
    """Whether ``position`` falls in one of the ordered, disjoint ``spans``."""
    index = bisect.bisect_right(spans, (position, sys.maxsize)) - 1
    return index >= 0 and spans[index][0] <= position < spans[index][1]


def _key(text: str) -> str:
    """``text`` to match on (same length): ASCII lower-cased, each non-ASCII punctuation, separator
    or control character as NUL, so that ``「evil.com」`` ends its host at the bracket as a mail
    client's linkifier does."""
    key = "".join(
        char.lower()
        if char < "\x80"
        else char
        if char == "\u3002" or char.isalnum() or unicodedata.category(char)[0] not in "PZC"
        else "\0"
        for char in text
    )
    return _mask_sentence_stops(key) if "\u3002" in key else key


def _mask_sentence_stops(key: str) -> str:
    """``key`` with each U+3002 between two Japanese characters (of the key) as NUL: it ends a
    sentence there, it is no host's dot."""
    chars = list(key)
    stop = key.find("\u3002", 1)
    while 0 < stop < len(key) - 1:
        if _japanese(key[stop - 1]) and _japanese(key[stop + 1]):
            chars[stop] = "\0"
        stop = key.find("\u3002", stop + 1)
    return "".join(chars)


def _japanese(char: str) -> bool:
    code = ord(char)
    return any(first <= code <= last for first, last in _JAPANESE)


def _replace(
    match: re.Match[str], text: str, *, indicator: bool, in_file_name: bool, finding_type: bool, name: bool
) -> str:
    """The defanged form of one match, or the match as written when it is not linkable."""
    start, end = match.span()
    if match["run"]:
        return _run(
            text[start:end], indicator=indicator, in_file_name=in_file_name, finding_type=finding_type, name=name
        )
    if match["ip"]:
        if not indicator and _after_product(text, start):
            return text[start:end]  # a user agent's version (Chrome/120.0.0.0), not an address
        head, _dot, last = text[start:end].rpartition(".")
        return f"{head}[.]{last}"
    if match["scheme"]:
        scheme = text[start : start + len(match["scheme"])]
        shown_scheme = f"{scheme[0]}xx{scheme[3:]}" if match["scheme"] in ("http", "https") else scheme
        return f"{shown_scheme}[:{match['slashes']}]"
    if match["colon"]:
        drive = start >= 1 and text[start - 1].isalpha() and (start == 1 or not text[start - 2].isalnum())
        return text[start:end] if drive else f"[:{match['after']}]"  # C:\ and C:/ are no scheme
    return "[\\\\]" if match["unc"] else "[@]"


def _run(run: str, *, indicator: bool, in_file_name: bool, finding_type: bool, name: bool) -> str:
    """A dotted run defanged (``evil[.]example``), or as written when it is no hostname."""
    labels = _SEPARATORS.split(run)
    if not indicator and (
        not _top_level_like(labels[-1])
        or (finding_type and run in GUARDDUTY_DOTTED_NAMES)
        or (name and not _delegated_top_level(labels[-1]))
        or (len(run) <= _MAX_INSTANCE_TYPE and _INSTANCE_TYPE.fullmatch(run))
        or (in_file_name and run[:4].lower() != "www.")
    ):
        return run
    if not run.isascii():
        labels = _punycode(labels)
    return "[.]".join(labels)


def _delegated_top_level(label: str) -> bool:
    """Whether ``label`` is a top-level domain a mail client links (IANA's list); a non-ASCII or
    punycode label counts as one (internationalised domains are not in the ASCII list)."""
    if not label.isascii() or label[:4].lower() == "xn--":
        return True
    from responder.domain.tlds import TOP_LEVEL_DOMAINS  # noqa: PLC0415 (loaded only for a dotted name)

    return label.lower() in TOP_LEVEL_DOMAINS


def _after_product(text: str, start: int) -> bool:
    """Whether ``start`` follows a product token's ``name/`` (``Chrome/``) at a word's start,
    as in a user agent; ``/dev/tcp/`` or ``http://x/`` are no product."""
    # Searched in a window before ``start``: ``\A`` matches only at the text's real start, so a
    # window that begins inside a word needs the space or bracket before the name.
    return _PRODUCT.search(text, max(0, start - _MAX_PRODUCT - 2), start) is not None


def shown(
    value: str,
    limit: int,
    *,
    multiline: bool = False,
    marker: str = "[truncated]",
    indicator: bool = False,
    paths: bool = False,
    finding_type: bool = False,
    name: bool = False,
) -> str:
    """The one cleaning path: ``defang(clean(value, ...))`` for every finding value displayed.

    Only a path fact (``paths``) keeps its file names readable, and only a name (``name``,
    ``finding_type``) its dotted words that end in no top-level domain: never a subject's
    resource label, a title or prose.
    """
    if _unlinkable(value) and _already_clean(value, limit):
        return value  # a clean identifier or word: nothing to clean or defang (most values)
    cleaned = clean(value, limit, multiline=multiline, marker=marker)
    return defang(cleaned, indicator=indicator, paths=paths, finding_type=finding_type, name=name)


MAX_OWN_TOKENS: Final = 12  # the type and the path facts' paths a title or description may name
MAX_OWN_TOKEN: Final = 1024  # characters: a longer value is left to the prose rules
# Around a token of the finding's own: the start, a space or an opening bracket or quote before
# it; the end, a space, a closing bracket or quote, or punctuation ending a clause after it.
_OWN_BEFORE: Final = r"(?<![^\s(\[{<\"'「『（])"
_OWN_AFTER: Final = r"(?=\Z|[\s)\]}>\"'」』）]|[.,;:!?。、](?:\s|\Z))"


def shown_prose(
    value: str,
    limit: int,
    *,
    multiline: bool = False,
    marker: str = "[truncated]",
    own_type: str | None = None,
    own_paths: tuple[str, ...] = (),
) -> str:
    """Prose (a title, a description) through the one cleaning path, except that a token that
    is exactly the finding's own type reads as the type line shows it, and one that is exactly
    a path the finding shows as a path fact (an object key) reads as that fact shows it.

    The rest is prose: ``Stateless[.]IntegTest`` alone is defanged, ``Canary:EC2/Stateless.IntegTest``
    (the type) is not. What such a token shows is what its own line shows already.
    """
    cleaned = clean(value, limit, multiline=multiline, marker=marker)
    kinds = {path: "path" for path in own_paths[:MAX_OWN_TOKENS] if _own_token(path)}
    if own_type and _own_token(own_type):
        kinds[own_type] = "type"
    present = [token for token in kinds if token in cleaned]
    if not present:
        return defang(cleaned)
    # Longest first: a path that starts with another must be taken whole.
    alternatives = "|".join(re.escape(token) for token in sorted(present, key=len, reverse=True))
    out: list[str] = []
    end = 0
    for match in re.finditer(f"{_OWN_BEFORE}(?:{alternatives}){_OWN_AFTER}", cleaned):
        out.append(defang(cleaned[end : match.start()]))
        token = match[0]
        out.append(defang(token, finding_type=True) if kinds[token] == "type" else defang(token, paths=True))
        end = match.end()
    out.append(defang(cleaned[end:]))
    return "".join(out)


def _own_token(token: str) -> bool:
    """Whether ``token`` may be matched in prose: one clean word, not too long."""
    return (
        0 < len(token) <= MAX_OWN_TOKEN
        and not any(char.isspace() for char in token)
        and (clean(token, MAX_OWN_TOKEN) == token)
    )


def _top_level_like(label: str) -> bool:
    """Whether ``label`` could be a top-level domain: two or more letters, or punycode (``xn--``)."""
    if label.isascii():
        return (len(label) >= 2 and label.isalpha()) or label[:4].lower() == "xn--"
    return len(label) >= 2 and all(unicodedata.category(char)[0] in "LM" for char in label)


MAX_HOST: Final = 253  # characters of a DNS name: a longer run resolves nowhere


def _punycode(labels: list[str]) -> list[str]:
    """Each non-ASCII label of a host in its ASCII (punycode) form, as a browser resolves it,
    unless it is written in Japanese or Korean (``写真[.]jpg``: readable, and no look-alike)."""
    # IDNA (UTS 46 mapping) per label costs tens of microseconds: only for what can be a host.
    resolvable = sum(len(label) + 1 for label in labels) <= MAX_HOST + 1
    return [
        label if label.isascii() or _cjk_label(label) else _label_punycode(label, idna=resolvable) for label in labels
    ]


@lru_cache(maxsize=1024)  # a host repeats across a finding's fields and findings
def _label_punycode(label: str, *, idna: bool) -> str:
    if idna:
        import idna as idna_codec  # noqa: PLC0415 (about 40 ms to import: loaded only when a non-ASCII host is shown)

        try:
            return idna_codec.encode(label, uts46=True).decode("ascii")
        except UnicodeError:  # idna.IDNAError is a UnicodeError: not a valid IDNA 2008 label
            pass
    return "xn--" + label.encode("punycode").decode("ascii")  # still shown unambiguously


# Scripts whose labels are shown as written, by the first words of a character's Unicode name
# (this interpreter's tables): none of their characters passes for a Latin letter.
_CJK_NAMES: Final = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "IDEOGRAPHIC ITERATION MARK")
_KANA_NAMES: Final = ("HIRAGANA", "KATAKANA", "HANGUL SYLLABLE")


def _cjk_label(label: str) -> bool:
    """Whether ``label`` is Japanese, Chinese or Korean, possibly with ASCII (``ログはCloudTrail``).

    Latin letters mix only with kana or Hangul syllables, as in UTS 39's restriction levels:
    a look-alike needs a non-Latin letter that passes for a Latin one (Cyrillic U+0430, a
    Latin U+1EA1), which these scripts lack, and a kana shows the label is no Latin name.
    """
    latin = kana = False
    for char in label:
        if char < "\x80":
            latin = latin or char.isalpha()
            continue
        name = unicodedata.name(char, "")
        if name.startswith(_KANA_NAMES):
            kana = True
        elif not name.startswith(_CJK_NAMES):
            return False
    return kana or not latin
