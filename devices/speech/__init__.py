"""Reading aloud (the ``kiosk.ports.devices.Speech`` port).

- ``qt``: Qt TextToSpeech on the platform's speech service (speech-dispatcher with espeak-ng on
  Debian, installed by ``scripts/bootstrap.sh``), offline; the only module here besides the
  camera's that imports Qt: the speech service is reached through Qt's plugin for it, see
  ``tests/test_architecture.py``;
- ``silent``: reads nothing and says why (no speech service, or reading switched off).

Neither is imported here: the composition root imports the one it builds.
"""
