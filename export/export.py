"""Entry point of the export step: `python export/export.py RUN [options]`.

The same as `arzoo export` (the logic lives in arzoo.serving.export); see
export/README.md.
"""

import sys

from arzoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["export", *sys.argv[1:]]))
