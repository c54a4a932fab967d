"""The kiosk's one settings registry: every setting declared once, resolved once at start from
the command line, the environment and the configuration file, handed down as a frozen value.

- ``app/settings/options.py``: the declarations (:class:`Settings` and its fields);
- ``app/settings/kinds.py``: the types a setting can have and how each is read;
- ``app/settings/resolve.py``: which file, which source wins, the messages;
- ``app/settings/upgrade.py``: the versions of the file's layout.

``kiosk reglages`` (``app/cli_settings.py``) lists every setting, its value and its source.
"""

from app.settings.options import BY_KEY, BY_NAME, SETTINGS, Declaration, Settings
from app.settings.resolve import (
    CONFIG_NAME,
    ENV_CONFIG,
    VERSION_KEY,
    Origin,
    Resolution,
    SettingsError,
    Source,
    default_config_file,
    resolve,
)
from app.settings.upgrade import CONFIG_VERSION

__all__ = [
    "BY_KEY",
    "BY_NAME",
    "CONFIG_NAME",
    "CONFIG_VERSION",
    "ENV_CONFIG",
    "SETTINGS",
    "VERSION_KEY",
    "Declaration",
    "Origin",
    "Resolution",
    "Settings",
    "SettingsError",
    "Source",
    "default_config_file",
    "resolve",
]
