"""``python -m lrsearch ...`` runs the command line, the same as the ``lrsearch`` script."""

from lrsearch.cli import main

raise SystemExit(main())
