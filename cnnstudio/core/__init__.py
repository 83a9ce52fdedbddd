"""The Qt-free heart of CNN Studio: the layer catalog, the network document,
its analysis and its files.  Importing it never imports torch or Qt."""

from .analysis import Analysis, NodeAnalysis, analyze
from .build import BuildError, build_model
from .diagnostics import Diagnostic
from .layers import CATALOG, FAMILIES, spec_for
from .network import Network, NetworkError, sequential
from .project import Project, ProjectError, load_project, save_project

__all__ = ["Analysis", "BuildError", "CATALOG", "Diagnostic", "FAMILIES", "Network", "NetworkError", "NodeAnalysis",
           "Project", "ProjectError", "analyze", "build_model", "load_project", "save_project", "sequential",
           "spec_for"]
