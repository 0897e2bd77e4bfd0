"""`python -m jianguan.cli …`: the `jianguan` command."""

from jianguan.cli.main import main

raise SystemExit(main())
