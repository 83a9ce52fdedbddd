"""The computations behind the lab pages (issue #7): small, Qt-free and NumPy only.

Each module does one job, so a page can show its numbers and a test can check them
against torch:

- ``windows``         padding, output sizes and sliding windows shared by the others
- ``filters``         hand-made kernels, typed kernels, the filter playground
- ``stepper``         one convolution, one output cell at a time
- ``pooling``         max and average pooling, and which input each output took
- ``im2col``          convolution as one matrix product
- ``receptive``       which input pixels one neuron sees, the lecture's table
- ``memory``          memory per layer and the lecture's out-of-memory advice, applied
- ``learned_filters`` which hand-made kernel a trained filter resembles

Nothing here imports Qt or ``cnnstudio.ui``; torch is imported only inside the few
functions that run a trained model.
"""
