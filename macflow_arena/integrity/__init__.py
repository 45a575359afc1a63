"""Integrity helpers shared by datasets, checkpoints, teams and runs (issue #13).

Small modules, one responsibility each, no torch import at package import:

* ``json_safe``: JSON parsing with a size and nesting-depth limit (no ``RecursionError``);
* ``names``: user-given names are one safe path component;
* ``weights_digest``: sha256 of a weights file and of its tensors' bytes, stored in
  the JSON companion on write and checked on every load;
* ``config_check``: types and ranges of configs and team specs before anything is built;
* ``scenario_ranges``: finite, documented ranges of scenario and unit fields;
* ``disk_full``: ``ENOSPC`` as one line saying what was kept, what is needed and how to continue;
* ``run_files``: stale temp files and logs past the resumed step, cleaned on (re)start.
"""
