"""Keras's callback set for the PyTorch trainer.

The lecture's list, each with the Keras arguments that matter: ``Callback``
(base), ``ModelCheckpoint``, ``BackupAndRestore``, ``TensorBoard``,
``EarlyStopping``, ``LearningRateScheduler``, ``ReduceLROnPlateau``,
``RemoteMonitor``, ``LambdaCallback``, ``TerminateOnNaN``, ``CSVLogger``,
``ProgbarLogger``, ``SwapEMAWeights``; plus ``CallbackList`` and ``History``.
"""

from .backup import BackupAndRestore
from .base import Callback, CallbackList, History, LambdaCallback
from .checkpoint import ModelCheckpoint
from .csv_logger import CSVLogger
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .progbar import ProgbarLogger
from .remote import RemoteMonitor
from .stopping import EarlyStopping, TerminateOnNaN
from .swap_ema import SwapEMAWeights
from .tensorboard_logger import TensorBoard

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor",
           "SwapEMAWeights", "TensorBoard", "TerminateOnNaN"]
