"""Entry point for ``python -m cnnstudio``."""

from cnnstudio.cli import console_main

raise SystemExit(console_main())
