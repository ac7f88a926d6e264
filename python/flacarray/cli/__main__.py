"""`python -m flacarray.cli`: the `flacarray` command."""

import sys

from .main import main

sys.exit(main())
