"""Pureflow WebAssembly component nodes on wasmtime."""
