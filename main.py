"""12345 Hotline: `python main.py` serves; sub-commands do admin work (see --help)."""

import sys

from hotline.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
