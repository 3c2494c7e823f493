"""``python -m tests.golden`` (``make golden``): rewrite the golden emails to what the product renders now.

Run it only when an email is meant to change, then review ``git diff tests/golden/emails``.
"""

from __future__ import annotations

import sys

from tests.golden.goldens import EMAILS, refresh


def main() -> int:
    """Refresh the goldens and say which files moved; the exit status is 0."""
    changes = refresh(EMAILS)
    for what, names in changes.items():
        for name in names:
            print(f"{what}: {name}")
    moved = sum(len(names) for names in changes.values())
    print(f"golden emails: {moved} file(s) rewritten in {EMAILS}" if moved else "golden emails: unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
