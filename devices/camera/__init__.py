"""Cameras that photograph a document page (the ``kiosk.ports.devices.Camera`` port).

- ``qt``: a real camera through Qt Multimedia (the only module of ``devices/`` that imports Qt:
  the camera is reached through Qt Multimedia's backends, see ``tests/test_architecture.py``);
- ``simulated``: training mode's camera, which films the training sample pages (no Qt).

Neither is imported here: the composition root imports the one it builds.
"""
