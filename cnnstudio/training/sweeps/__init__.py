"""Sweeps: a project plus a search space over training settings and layer parameters,
an objective and a budget, searched with Optuna; every trial is an ordinary run of
the project through ``training.session``.

``space`` (what varies and over what), ``experiment`` (space, objective, budget,
sampler and pruner; the project file's ``experiments`` object), ``network_edits``
(a trial's values applied to a network), ``study`` (the Optuna study and its
storage, trials as rows), ``runner`` (running trials), ``callbacks`` (pruning and
progress), ``pareto`` (accuracy against cost) and ``table`` (the trials as text).
Optuna is imported only when a study is opened.
"""
