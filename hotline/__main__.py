"""`python -m hotline …`: the same as `python main.py …`, for an installed package."""

import sys

from hotline.commands.cli import main

sys.exit(main())
