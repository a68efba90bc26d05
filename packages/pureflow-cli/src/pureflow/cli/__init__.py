"""The pureflow command-line interface."""
