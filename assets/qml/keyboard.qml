// The embedded on-screen keyboard (Qt Virtual Keyboard), shown at the bottom of the kiosk
// window. Embedded rather than a separate window: that mode works offscreen and on every
// tablet. The locale follows the person's language (AZERTY French by default).
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

Item {
    id: root
    implicitHeight: panel.height

    function setLocale(name) {
        VirtualKeyboardSettings.locale = name
    }

    InputPanel {
        id: panel
        width: root.width
        y: 0  // the widget is sized to the keyboard: keep it at the top, never half out
    }

    Component.onCompleted: {
        VirtualKeyboardSettings.activeLocales = ["fr_FR", "en_GB", "ar_AR"]
        VirtualKeyboardSettings.locale = "fr_FR"
    }
}
