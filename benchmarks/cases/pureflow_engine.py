"""Pureflow's own rows: a placeholder until the engine runs (nothing here is measured yet).

No case of this module is registered: ``run.py`` registers Pureflow's rows only when its
``PUREFLOW_ROWS`` switch is on, and this module defines no case functions yet. No number
in any table comes from here until both are done.

What to add, each function with the throughput-case signature
``run(n_packets, payload_size, capacity) -> CaseResult`` (see ``cases/common.py`` for the
conventions: identity stages, one shared payload object, ``packets`` counts source packets,
the clock starts before the run starts and stops when every sink has seen end of stream,
every k-th packet stamped with ``perf_counter_ns`` for latency):

* the shapes of ``baseline_asyncio.py`` built as Pureflow workflows run by the engine
  (``linear-3``, ``linear-10``, ``fan-out-in-1-2-1`` where the source's output port feeds
  two edges and both branches feed the sink's one input port, ``wide-fan-out-1-16``), with
  the edge capacity taken from ``capacity`` (``run.py`` passes 64 and 1);
* per metadata tier, for the per-item API (``send``/``recv``):
  ``{stem}_item_off`` (the null sink), ``{stem}_item_control`` (the tiered sink keeping
  control records only) and ``{stem}_item_jsonl`` (every record as JSONL to a file in a
  temporary directory, flushed and closed inside the timed span);
* ``{stem}_batch_off``: the batch API (``send_many``/``recv_many``) with batches of 64;
* ``{stem}`` is ``linear3``, ``linear10``, ``fan_out_in`` or ``wide_fan_out``;
* ``cpu_one_process_branch`` and ``cpu_two_process_branches``: the shape of
  ``cpu_scaling.py`` with the branches declared as process nodes (``cpu_scaling.burn`` as
  their work), ``packets`` counting packets processed by the branches;
* in ``static_scale.py``, the ``engine-start`` phase: time from asking the engine to run
  the generated n-node workflow (nodes that finish at once) until every node has started.

Rows and targets these give (``run.py``'s ``RATIO_TARGETS`` and ``evaluate_targets``,
ratios to the ``asyncio.Queue`` per-item capacity-64 row of the same shape, payload and
round):

* per-item, metadata off: linear >= 1.2, fan-out/fan-in >= 0.6;
* per-item, control-only metadata: linear >= 0.8;
* per-item, JSONL to a file: >= 0.2;
* batch API, metadata off: linear >= 5, fan-out/fan-in >= 7.5;
* faster than every peer row of the same shape, API and payload;
* memory: ``linear10_item_off`` at 1,000,000 packets within 20 MiB of its peak RSS at
  10,000 (``MEMORY_CASES``);
* CPU: two process branches >= 1.6x one (``CPU_CASES``);
* static: ``engine-start`` growing no worse than n log n.
"""

from __future__ import annotations
