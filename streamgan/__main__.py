"""Allow ``python -m streamgan``."""

from streamgan.cli.main import main

raise SystemExit(main())
