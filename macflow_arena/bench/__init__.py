"""Speed measurements shared by ``macflow-arena bench`` and the scripts in ``benchmarks/``.

``env``: env throughput (agent-steps/s) of our VectorEnv / ParallelEnv and mpe2;
``inference``: time per joint decision of each algorithm's ``act``;
``train``: time per ``update`` of each algorithm (synthetic batch or a dataset);
``timing``: the repeat-and-median timer and machine description;
``summary``: the one-table run behind ``macflow-arena bench``.
Importing this package imports nothing heavy; torch is imported by the modules that need it.
"""
