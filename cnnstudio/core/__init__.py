"""The Qt-free heart of CNN Studio: the layer catalog, the network document,
its analysis and its files.  Importing it never imports torch or Qt."""

from .analysis import Analysis, NodeAnalysis, analyze
from .diagnostics import Diagnostic
from .layers import CATALOG, FAMILIES, spec_for
from .network import Network, NetworkError, sequential

__all__ = ["Analysis", "CATALOG", "Diagnostic", "FAMILIES", "Network", "NetworkError", "NodeAnalysis",
           "analyze", "sequential", "spec_for"]
