"""File > Export Keras Code: the open network as a Keras 3 script (``interop.keras_export``).

The editor has no trained weights, so the script builds a freshly initialised model; the
training view's Export menu writes the script with a run's weights beside it.
"""

from __future__ import annotations



def export_keras_code(window) -> bool:
    """Ask where to write and write the script; ``window`` is the ``MainWindow``."""
    from cnnstudio.interop.keras_plan import plan_keras

    document = window.document
    title = document.project.name or None
    try:
        plan_keras(document.network, document.analysis, title=title)
    except ValueError as error:
        window.prompter.error("Cannot export to Keras", f"Fix these problems first:\n{error}")
        return False
    stem = document.path.stem if document.path else "network"
    path = window.prompter.save_path(str(window.files.export_folder() / f"{stem}_keras.py"), "Python files (*.py)",
                                     "Export Keras code")
    if not path:
        return False
    from cnnstudio.interop.keras_export import export_keras
    try:
        export_keras(document.network, None, path, title=title, analysis=document.analysis)
    except (OSError, ValueError) as error:
        window.prompter.error("Cannot export to Keras", f"{path}: {getattr(error, 'strerror', None) or error}")
        return False
    window.prompter.info("Exported", f"Wrote the Keras model to {path}")
    return True
