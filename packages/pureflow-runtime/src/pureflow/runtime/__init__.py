"""Pureflow runtime: runs one node with lifecycle observation and guaranteed port closing."""
