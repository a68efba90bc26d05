"""Benchmark cases: one module per system measured (see ``benchmarks/README.md``).

Every throughput case is a plain function ``run(n_packets, payload_size, capacity)`` that
returns a :class:`~cases.common.CaseResult`. ``benchmarks/run.py`` holds the registry that
names them and runs each measurement in a fresh subprocess through ``benchmarks/child.py``.
"""
