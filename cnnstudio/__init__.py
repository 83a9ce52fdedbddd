"""CNN Studio: design, inspect and train convolutional neural networks visually."""

__version__ = "0.1.0"
