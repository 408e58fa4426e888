"""``python -m rjsim``: the same as the ``rjsim`` command."""

from rjsim.cli import main

raise SystemExit(main())
