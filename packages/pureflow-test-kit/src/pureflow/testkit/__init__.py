"""Pytest plugin and helpers for testing Pureflow workflows and nodes."""
