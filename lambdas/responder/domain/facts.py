"""The labelled values an email shows, and the one way they are built from finding fields."""

from __future__ import annotations

from typing import Final, NamedTuple

MAX_LIST_ITEMS: Final = 10  # list-valued facts show at most this many entries


class Fact(NamedTuple):
    """One labelled value for the email. Every value is cleaned and defanged when rendered;
    ``ioc`` values (indicators) have every dot defanged, hostname-like or not; only ``path``
    values (a list of file paths) keep the file name after a directory readable."""

    label: str  # catalogue key
    value: str
    ioc: bool = False
    translate: bool = False  # value is a catalogue key (yes/no, direction, role)
    path: bool = False  # value is one or more file paths (``, ``-separated)
    primary: bool = False  # names the resource the finding is about (shown at the top too)
    name: bool = False  # a name that cannot be a hostname (threat name): see ``cleaning.defang``


class Msg(str):
    """A value that is a catalogue key rather than finding data."""


def labelled(*pairs: tuple[str, object], ioc: tuple[str, ...] = (), paths: tuple[str, ...] = ()) -> tuple[Fact, ...]:
    """Facts for the pairs whose value is present; labels in ``ioc`` are indicators, in ``paths`` file paths."""
    out = []
    for label, value in pairs:
        kind = type(value)  # exact types: this runs for every field of every finding
        if value is None or value == "":
            continue
        if kind is str:
            out.append(Fact(label, value, label in ioc, False, label in paths))  # type: ignore[arg-type]
        elif kind is Msg:
            out.append(Fact(label, str(value), False, True))
        elif kind is bool:
            out.append(Fact(label, "v.yes" if value else "v.no", False, True))
        elif kind is list or kind is tuple:
            items: list[object] | tuple[object, ...] = value  # type: ignore[assignment]
            if not items:
                continue
            shown = ", ".join(str(item) for item in items[:MAX_LIST_ITEMS])
            extra = len(items) - MAX_LIST_ITEMS
            out.append(Fact(label, shown + (f" (+{extra})" if extra > 0 else ""), label in ioc, False, label in paths))
        else:
            out.append(Fact(label, str(value), label in ioc, False, label in paths))
    return tuple(out)
