"""`python -m btassist` runs the command-line interface."""

from btassist.cli import app

app()
