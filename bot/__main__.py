"""`python -m bot` is `support-bridge run`."""

from bot.cli import main

raise SystemExit(main(["run"]))
