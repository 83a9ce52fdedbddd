"""The Qt desktop studio. It observes and commands ``cnnstudio.core``; it holds no math."""
