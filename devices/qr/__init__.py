"""Reading QR codes off a photo (the ``kiosk.ports.devices.CodeReader`` port).

- ``zbar``: zbar's ``zbarimg`` (Debian's ``zbar-tools``), run as a command with a time limit.

Not imported here: the composition root imports the one it builds.
"""
