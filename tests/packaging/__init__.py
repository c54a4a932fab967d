"""The Debian package: built, inspected, installed, upgraded and removed with dpkg."""
