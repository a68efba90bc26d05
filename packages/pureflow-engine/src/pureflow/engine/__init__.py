"""Pureflow engine: the supervisor that runs a whole workflow."""
