"""``python -m game`` is the same as the ``lumen`` command."""

from game.cli import main

raise SystemExit(main())
