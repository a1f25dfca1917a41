"""``python -m lrsearch ...`` runs the command line, the same as the ``lrsearch`` script."""

from lrsearch.cli import console_main

raise SystemExit(console_main())
