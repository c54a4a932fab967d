"""``python -m app`` runs the ``kiosk`` command (used by tests and when no script is installed)."""

import sys

from app.cli import main

sys.exit(main())
