"""``python -m rjsim``: the same as the ``rjsim`` command."""

from rjsim.cli.main import main

raise SystemExit(main())
