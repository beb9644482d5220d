"""`python -m dbspecialist` runs the CLI."""

from dbspecialist.cli import main

raise SystemExit(main())
