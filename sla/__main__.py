"""`python -m sla` entry point."""

import sys

from sla.cli import main

sys.exit(main())
