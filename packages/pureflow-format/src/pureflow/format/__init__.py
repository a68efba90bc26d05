"""Pureflow workflow documents in JSON, YAML and TOML, with diagnostics and JSON Schema."""
