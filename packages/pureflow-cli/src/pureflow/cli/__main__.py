"""``python -m pureflow.cli``: the same as the ``pureflow`` console script."""

from pureflow.cli.entry import main

# Guarded: worker processes (``run_in: process``) import the parent's main module under
# another name to unpickle functions, and must not start a second CLI.
if __name__ == "__main__":
    main()
