"""Allow ``python -m streamgan``."""

from streamgan.cli.entry import main

raise SystemExit(main())
