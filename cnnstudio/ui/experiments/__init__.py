"""The Experiments tab: sweeps defined, run in a child process, compared and applied (issue 18)."""
