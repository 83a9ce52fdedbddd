"""The training half of the studio: the worker thread, the training view and its
plots, feature-map and filter viewers, and the results after a run."""
