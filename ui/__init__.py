"""The touchscreen application (PySide6 Qt Widgets).

Screens receive the services they use from the composition root (``app/``); they never open the
database (no SQLAlchemy here) and never wait on the disk, a card or the network on the UI thread:
work goes through :class:`ui.tasks.TaskRunner`.
"""
