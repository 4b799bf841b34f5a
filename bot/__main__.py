"""`python -m bot` runs the same command line as the `whocreated` script."""

from bot.cli import main

raise SystemExit(main())
