"""``python -m responder``: the preview tool and the deployment doctor."""

import sys

from responder.cli import main

sys.exit(main())
