"""Entry point for ``python -m cnnstudio``."""

from cnnstudio.cli import main

raise SystemExit(main())
