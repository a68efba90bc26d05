"""Pureflow core: packets, bounded edges, ports, errors and metadata records."""
