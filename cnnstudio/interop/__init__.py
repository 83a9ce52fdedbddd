"""Models made elsewhere, in and out: ONNX files, PyTorch modules and Keras models
imported onto the canvas with their weights, and networks exported to Keras.

No Qt here; torch, onnx and keras are imported only by the functions that need them.
Every importer returns an ``ImportedModel`` (``model_import``), so the CLI's
``import`` command and the studio's File > Import Model take one path whatever
the source format.
"""
