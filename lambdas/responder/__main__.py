"""``python -m responder``: the preview tool."""

import sys

from responder.cli import main

sys.exit(main())
