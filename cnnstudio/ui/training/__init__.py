"""The training half of the studio: the training view, the child process that runs
a training session for it, the plots, feature-map and filter viewers, and the
results after a run."""
