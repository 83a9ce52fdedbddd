"""Launch the CNN Studio window: ``python main.py [PROJECT]``."""

import sys

from cnnstudio.ui.app import main

raise SystemExit(main(sys.argv[1:]))
