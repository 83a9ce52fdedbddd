"""Keras runs on its PyTorch backend in these tests (TensorFlow is never needed), with its
settings file in a throwaway folder rather than the user's ~/.keras.

Both must be set before ``keras`` is first imported; importing it costs a few seconds, once
per test session.
"""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="cnnstudio-keras-"))


def pytest_configure(config):
    # Keras's torch backend converts tensors with np.array(x); NumPy 2 warns about it on every call
    config.addinivalue_line("filterwarnings",
                            "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
