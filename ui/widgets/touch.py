"""The application style's one change for touch screens (kept apart from the keyboard module:
importing Qt Quick for the keyboard costs ~40 ms, and the style is set before the first paint)."""

from __future__ import annotations

from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleHintReturn, QStyleOption, QWidget


class TouchStyle(QProxyStyle):
    """Asks for the on-screen keyboard on the first tap in a text field.

    Qt's default asks only when an already focused field is tapped again, which on a kiosk looks
    like a keyboard that does not come.
    """

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
        return_data: QStyleHintReturn | None = None,
    ) -> int:
        if hint == QStyle.StyleHint.SH_RequestSoftwareInputPanel:
            return int(QStyle.RequestSoftwareInputPanel.RSIP_OnMouseClick.value)
        return int(super().styleHint(hint, option, widget, return_data))
