"""Run reports: score against inference cost, per algorithm (``macflow-arena report``).

``runs``: one training run's normalized score and per-decision inference time;
``groups``: runs of one algorithm (seeds) aggregated with a 95% CI;
``table``: the Markdown report; ``figure``: normalized score against time per
decision (log scale) as a PNG drawn with pygame; ``build``: all of it into a folder.
"""
