"""Reading aloud on the real speech service: Qt TextToSpeech's speechd engine talking to a
speech-dispatcher of the test's own (espeak-ng voices, ALSA's « null » output: nothing is heard),
configured in a temporary folder, never the user's; and, with no speech service answering, a
plain French reason instead of a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtTextToSpeech import QTextToSpeech
from pytestqt.qtbot import QtBot

from app.container import build_ui
from app.settings import Settings
from devices.speech.qt import (
    MAX_VOLUME,
    NO_VOICE,
    NOT_ANSWERING,
    QtSpeech,
    engine_order,
    voice_locale,
)
from devices.speech.silent import SWITCHED_OFF

MODULES = Path("/usr/lib/speech-dispatcher-modules")
ESPEAK_CONF = Path("/etc/speech-dispatcher/modules/espeak-ng.conf")


@pytest.fixture
def speech_dispatcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A speech-dispatcher of this test's own on a socket in ``tmp_path``, reading its espeak-ng
    voices into ALSA's null device; ``SPEECHD_ADDRESS`` points libspeechd (Qt's engine) at it."""
    binary = shutil.which("speech-dispatcher")
    if binary is None or not (MODULES / "sd_espeak-ng").exists():
        pytest.skip("speech-dispatcher with espeak-ng is not installed (scripts/bootstrap.sh)")
    config = tmp_path / "config" / "speech-dispatcher"
    config.mkdir(parents=True)
    module_conf = ESPEAK_CONF if ESPEAK_CONF.exists() else "espeak-ng.conf"
    (config / "speechd.conf").write_text(
        'AudioOutputMethod "alsa"\n'
        'AudioALSADevice "null"\n'  # alsa-lib's PCM that throws the sound away
        f'AddModule "espeak-ng" "sd_espeak-ng" "{module_conf}"\n'
        'DefaultModule "espeak-ng"\n'
    )
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    socket = runtime / "speechd.sock"
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(tmp_path),
    }
    env.pop("SPEECHD_ADDRESS", None)
    log = (tmp_path / "speechd.out").open("wb")
    server = subprocess.Popen(  # Debian's speech-dispatcher, in the foreground (-s)
        [binary, "-s", "-C", str(config), "-S", str(socket), "-t", "0", "-L", str(tmp_path)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        monkeypatch.setenv("SPEECHD_ADDRESS", f"unix_socket:{socket}")
        yield socket
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _ready(qtbot: QtBot, speech: QtSpeech, socket: Path | None = None) -> None:
    if socket is not None:  # the server creates its socket once it has read its configuration
        qtbot.waitUntil(socket.exists, timeout=10_000)
    speech.start()
    assert speech.wait_ready(timeout=30)


def test_a_french_sentence_is_spoken_by_speech_dispatcher(
    qtbot: QtBot, speech_dispatcher: Path
) -> None:
    speech = QtSpeech(volume=1.0)  # more than the cap: headphones are never blasted
    _ready(qtbot, speech, speech_dispatcher)
    assert speech.unavailable("fr") is None, speech.unavailable("fr")
    assert speech.engine_name == "speechd"
    engine = speech.engine
    assert engine is not None
    assert engine.volume() == pytest.approx(MAX_VOLUME, abs=0.01)
    states: list[QTextToSpeech.State] = []
    engine.stateChanged.connect(states.append)

    speech.say(["Bonjour. Nom de naissance.", "Réponse obligatoire."], "fr")
    assert speech.speaking()
    qtbot.waitUntil(lambda: not speech.speaking(), timeout=20_000)
    assert engine.locale().language() is QLocale.Language.French
    assert QTextToSpeech.State.Speaking in states
    assert states[-1] is QTextToSpeech.State.Ready
    assert states.index(QTextToSpeech.State.Speaking) < len(states) - 1  # then Ready

    # English and Arabic have their voices too (espeak-ng's).
    for lang, language in (("en", QLocale.Language.English), ("ar", QLocale.Language.Arabic)):
        assert speech.unavailable(lang) is None
        states.clear()
        speech.say(["Listen." if lang == "en" else "استمع"], lang)
        qtbot.waitUntil(lambda: not speech.speaking(), timeout=20_000)
        assert engine.locale().language() is language
        assert QTextToSpeech.State.Speaking in states
    speech.stop()
    assert not speech.speaking()


def test_with_no_speech_service_the_agent_reads_why_in_french(qtbot: QtBot) -> None:
    # tests/conftest.py points libspeechd at a socket nobody listens on.
    speech = QtSpeech(volume=0.5)
    _ready(qtbot, speech)
    assert speech.unavailable("fr") == NOT_ANSWERING
    assert speech.engine is None
    speech.say(["Bonjour"], "fr")  # nothing happens, nothing raised
    assert not speech.speaking()
    speech.stop()


def test_the_first_reading_connects_then_is_read(qtbot: QtBot, speech_dispatcher: Path) -> None:
    qtbot.waitUntil(speech_dispatcher.exists, timeout=10_000)
    speech = QtSpeech(volume=0.5)
    assert not speech.started and speech.unavailable("fr") is None  # nothing known against it
    speech.say(["Bonjour. Nom de naissance."], "fr")
    assert speech.speaking()  # « Arrêter » while it connects: the reading waits
    states: list[QTextToSpeech.State] = []

    def over() -> bool:
        reading = speech.speaking()  # the UI's poll, which starts the reading once connected
        if speech.engine is not None:
            states.append(speech.engine.state())
        return not reading

    qtbot.waitUntil(over, timeout=30_000)
    assert speech.engine_name == "speechd"
    assert QTextToSpeech.State.Speaking in states
    assert speech.engine is not None
    assert speech.engine.locale().language() is QLocale.Language.French


def test_a_first_reading_stopped_while_connecting_is_not_read(
    qtbot: QtBot, speech_dispatcher: Path
) -> None:
    qtbot.waitUntil(speech_dispatcher.exists, timeout=10_000)
    speech = QtSpeech(volume=0.5)
    speech.say(["Bonjour."], "fr")
    speech.stop()  # « Arrêter » before the connection is made
    assert not speech.speaking()
    qtbot.waitUntil(lambda: speech.engine is not None, timeout=30_000)
    assert not speech.speaking()
    engine = speech.engine
    assert engine is not None and engine.state() is QTextToSpeech.State.Ready


def test_a_first_reading_without_a_speech_service_says_why(qtbot: QtBot) -> None:
    speech = QtSpeech(volume=0.5)  # tests/conftest.py: a socket nobody listens on
    speech.say(["Bonjour"], "fr")
    qtbot.waitUntil(lambda: not speech.speaking(), timeout=30_000)
    assert speech.unavailable("fr") == NOT_ANSWERING
    assert speech.engine is None


def test_the_kiosk_reads_aloud_unless_the_setting_switches_it_off(tmp_path: Path) -> None:
    services, container = build_ui(Settings(data_dir=tmp_path), sync=False)
    try:
        speech = services.speech
        assert isinstance(speech, QtSpeech)
        # Connected at the first reading, not at start (issue 18: it holds the interpreter).
        assert not speech.started
        assert speech.unavailable("fr") is None
    finally:
        container.close()
    services, container = build_ui(Settings(data_dir=tmp_path, speech_volume=0), sync=False)
    container.close()
    assert services.speech is not None
    assert services.speech.unavailable("fr") == SWITCHED_OFF


def test_the_voice_is_the_language_and_country_wanted_else_the_same_language() -> None:
    available = [QLocale("en_US"), QLocale("fr_BE"), QLocale("fr_FR"), QLocale("ar_EG")]
    assert voice_locale(available, "fr_FR") == QLocale("fr_FR")
    assert voice_locale(available, "en_GB") == QLocale("en_US")
    assert voice_locale(available, "ar") == QLocale("ar_EG")
    assert voice_locale(available, "de_DE") is None
    assert engine_order(["mock", "flite", "speechd"]) == ["speechd", "flite"]
    assert engine_order(["mock"]) == []
    assert NO_VOICE.format(language="arabe").startswith("La lecture à voix haute n'est pas")
