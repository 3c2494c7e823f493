"""The demo run every e2e test of `make demo` reads: one run (about two minutes) for the session."""

from __future__ import annotations

import pytest

from demo.report import Result
from demo.run import DEFAULT_EVENTS, organisation_from, overrides_from, parse_args, run


@pytest.fixture(scope="session")
def demo_result() -> Result:
    """`make demo` as it runs: the bundled events in the emulated organisation."""
    args = parse_args([])
    return run(DEFAULT_EVENTS, overrides_from(args), write=False, organisation=organisation_from(args))
