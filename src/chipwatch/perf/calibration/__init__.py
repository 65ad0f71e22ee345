"""Calibration: efficiency factors per chip family, fitted on published measurements.

Modules: ``points`` (dataset adapters: measurement files -> one row per measured quantity),
``predict`` (the serving model evaluated on every point at once), ``fit`` (the fit, its
errors and the factors file). The run-time lookup lives in :mod:`chipwatch.perf.factors`.

Method (documented in docs/performance-model.md):

1. ``build_points`` turns the measurement files into one row per measured quantity (TPOT, TTFT,
   output tokens/s, ...) with chip id, model id, precision, parallelism, batch and lengths.
2. ``predict`` evaluates the same serving model as ``infer`` for every row at once (NumPy).
3. ``fit`` finds, per chip family, the compute / memory / link efficiencies and the fixed
   per-pass overhead that minimise a robust (soft-L1) loss of log(predicted / measured) over all
   the family's points (scipy ``least_squares``). Every point counts once; no point is special.
4. Errors: the fit error per point, and its leave-one-out error: exact refits for families with
   at most ``exact_loo_max`` points, else the leverage approximation r_i / (1 - h_ii) of the
   linearised least-squares problem, plus an exact K-fold cross-validation per family.
"""
