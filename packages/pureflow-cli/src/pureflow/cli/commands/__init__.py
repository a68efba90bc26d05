"""One module per ``pureflow`` command."""
