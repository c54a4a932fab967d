// The embedded on-screen keyboard (Qt Virtual Keyboard), shown at the bottom of the kiosk
// window. Embedded rather than a separate window: that mode works offscreen and on every
// tablet. The locale follows the person's language (AZERTY French by default), except in a field
// for data, typed in Latin letters whatever the screen's language (ui/widgets/keyboard.py).
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

Item {
    id: root
    implicitHeight: panel.height
    // The keys keep their shape, so the panel's height follows its width (the default style is
    // designed 2560 × 800). On a short screen the panel is narrowed, centred, so that it never
    // takes more than maxHeight and the field typed in keeps room above it.
    property real maxHeight: 100000
    readonly property real designRatio: 2560 / 800

    // The layout shown, and those the globe key goes through. The full list is active while the
    // layout changes, so that the new one is never outside the active ones, even for a moment.
    function setLocales(name, active) {
        VirtualKeyboardSettings.activeLocales = ["fr_FR", "en_GB", "ar_AR"]
        VirtualKeyboardSettings.locale = name
        VirtualKeyboardSettings.activeLocales = active
    }

    InputPanel {
        id: panel
        width: Math.min(root.width, root.maxHeight * root.designRatio)
        x: (root.width - width) / 2
        y: 0  // the widget is sized to the keyboard: keep it at the top, never half out
    }

    // The keyboard's hidden text line (its full-screen mode's copy of the field typed in) is
    // no field of the kiosk's: a screen reader would meet an unnamed text box there.
    function hideStrayText(item) {
        for (var i = 0; i < item.children.length; ++i) {
            var child = item.children[i]
            if (child.hasOwnProperty("echoMode") && child.hasOwnProperty("cursorPosition"))
                child.Accessible.ignored = true
            hideStrayText(child)
        }
    }

    Component.onCompleted: {
        VirtualKeyboardSettings.activeLocales = ["fr_FR", "en_GB", "ar_AR"]
        VirtualKeyboardSettings.locale = "fr_FR"
        hideStrayText(panel)
    }
}
