"""``python -m pureflow.cli``: the same as the ``pureflow`` console script."""

from pureflow.cli.main import main

main()
