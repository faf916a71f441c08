"""`python -m arzoo.cli ...`, the same as the `arzoo` command."""

import sys

from arzoo.cli import main

sys.exit(main())
