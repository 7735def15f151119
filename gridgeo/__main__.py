"""``python -m gridgeo``: the same as the ``gridgeo`` command."""

import sys

from gridgeo.cli import main

if __name__ == "__main__":
    sys.exit(main())
