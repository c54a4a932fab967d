"""Reading aloud through Qt TextToSpeech, on the platform's speech service (speech-dispatcher with
espeak-ng on Debian: French, English and Arabic voices, offline).

Connecting to speech-dispatcher takes one to a few seconds (it lists its thousands of voices),
and Qt TextToSpeech's constructor holds Python's interpreter lock all along: every thread of
the kiosk, the UI's included, waits for it, on whichever thread it runs. So the kiosk connects
when reading aloud is first asked for, not at start (issue 18: it took 1.7–3.6 s of a cold
start, the keypad frozen meanwhile, and ~10 MB): the first « Écouter » of a run waits for the
connection, then reads; the module itself (Qt TextToSpeech and Qt Multimedia) is loaded then
too. :meth:`QtSpeech.start` connects on a thread of its own, then hands the engine to the UI
thread (a ``QTextToSpeech`` reports its progress by signals on the thread it lives on). If it
fails, :meth:`QtSpeech.unavailable` says why in French, for the agent.

The engine is Qt's « speechd » when it works, else any other one installed, never Qt's « mock »
(a test engine that says nothing). Speech goes to the system's default audio output: the
kiosk's headphone jack (docs/accessibility.md); its level is the ``peripheriques.volume_lecture``
setting, capped at :data:`MAX_VOLUME`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLocale, QThread, QTimer

if TYPE_CHECKING:  # loaded with the first reading (_tts): Qt Multimedia comes with it
    from PySide6.QtTextToSpeech import QTextToSpeech

log = logging.getLogger(__name__)

#: The loudest the kiosk ever reads, as a share of the speech service's full level: a person
#: wearing headphones is never startled, whatever the setting says.
MAX_VOLUME = 0.8
#: A little slower than the engines' default (espeak-ng reads fast): the person listens to a
#: question once, in a language that may not be theirs.
RATE = -0.2
#: The voice wanted for each language of the screens; another voice of the same language
#: when that one is missing (espeak-ng's Arabic is « ar », Egypt's locale for Qt).
VOICES: dict[str, str] = {"fr": "fr_FR", "en": "en_GB", "ar": "ar"}
#: The languages' names, for the agent's messages.
LANGUAGE_NAMES: dict[str, str] = {"fr": "française", "en": "anglaise", "ar": "arabe"}
#: Qt's engines in the order they are tried (any other installed one comes after).
PREFERRED = ("speechd",)
#: Engines that never speak (Qt's test engine).
NOT_SPEAKING = frozenset({"mock"})

NO_ENGINE = (
    "La lecture à voix haute n'est pas possible : aucun service de synthèse vocale n'est"
    " installé sur la borne (speech-dispatcher et espeak-ng, installés par scripts/run)."
)
NO_MODULE = (
    "La lecture à voix haute n'est pas possible : le module Qt TextToSpeech manque"
    " (PySide6-Addons)."
)
NOT_ANSWERING = (
    "La lecture à voix haute n'est pas possible : le service de synthèse vocale de la borne"
    " (speech-dispatcher) ne répond pas. Redémarrez la borne ; si cela continue, appelez le"
    " support."
)
NO_VOICE = (
    "La lecture à voix haute n'est pas possible en langue {language} : le service de synthèse"
    " vocale de la borne n'a pas de voix pour elle."
)


def _tts() -> type[QTextToSpeech]:
    """Qt TextToSpeech's class, its module loaded on first use."""
    from PySide6.QtTextToSpeech import QTextToSpeech

    return QTextToSpeech


def voice_locale(available: Sequence[QLocale], wanted: str) -> QLocale | None:
    """The locale among ``available`` to read ``wanted`` (``fr_FR``…) in: the same language and
    country, else the same language anywhere, else None."""
    want = QLocale(wanted)
    same_language = [loc for loc in available if loc.language() == want.language()]
    same_country = [loc for loc in same_language if loc.territory() == want.territory()]
    found = same_country or same_language
    return found[0] if found else None


def engine_order(installed: Sequence[str]) -> list[str]:
    """The engines to try, best first: speechd, then the others that speak."""
    speaking = [name for name in installed if name not in NOT_SPEAKING]
    return sorted(speaking, key=lambda name: PREFERRED.index(name) if name in PREFERRED else 99)


class QtSpeech:
    """The kiosk's speech (``kiosk.ports.devices.Speech``), on Qt TextToSpeech."""

    def __init__(self, *, volume: float, rate: float = RATE) -> None:
        """Args:
        volume: the reading level, 0 to 1 (capped at :data:`MAX_VOLUME`).
        rate: the reading speed, -1 (slowest) to 1 (fastest), 0 being the engine's own.
        """
        self._volume = max(0.0, min(volume, MAX_VOLUME))
        self._rate = max(-1.0, min(rate, 1.0))
        self._lock = threading.Lock()
        self._engine: QTextToSpeech | None = None
        self._locales: dict[str, QLocale] = {}
        self._problem: str | None = None
        self._thread: threading.Thread | None = None
        #: Texts of the current reading not finished yet (Qt goes Ready between two of them).
        self._left = 0
        #: A reading asked before the engine was connected: read once it is (UI thread).
        self._pending: tuple[list[str], str] | None = None

    @property
    def engine(self) -> QTextToSpeech | None:
        """Qt's engine once connected (diagnostics, tests), else None."""
        return self._ready_engine()

    @property
    def engine_name(self) -> str:
        """The Qt engine in use ("speechd"), or "" before it is ready or when there is none."""
        engine = self._ready_engine()
        return engine.engine() if engine is not None else ""

    @property
    def started(self) -> bool:
        """Whether the connection to the speech service was asked for (it is made once)."""
        return self._thread is not None

    def start(self) -> None:
        """Connect to the speech service on a thread of its own, once (any thread may call it,
        once a ``QCoreApplication`` exists: the engine is handed to its thread, the UI thread).
        :meth:`say` calls it for the first reading."""
        if self._thread is not None:
            return
        app = QCoreApplication.instance()
        if app is None:
            self._fail("no Qt application: nothing to deliver speech signals", NOT_ANSWERING)
            return
        target = app.thread()
        self._thread = threading.Thread(
            target=self._connect, args=(target,), name="speech", daemon=True
        )
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the engine is ready or has failed (tests, and nothing on the UI thread:
        the engine is handed over by the thread it is built on, not by the UI's loop)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def _connect(self, target: QThread) -> None:  # the "speech" thread
        try:
            tts = _tts()
        except ImportError as exc:  # a PySide6 without its add-ons
            self._fail(str(exc), NO_MODULE)
            return
        installed = tts.availableEngines()
        tried: list[str] = []
        for name in engine_order(installed):
            engine = tts(name)
            if engine.state() is tts.State.Error:
                tried.append(f"{name}: {engine.errorString()}")
                continue
            engine.setVolume(self._volume)
            engine.setRate(self._rate)
            available = engine.availableLocales()
            locales = {}
            for lang, wanted in VOICES.items():
                found = voice_locale(available, wanted)
                if found is not None:
                    locales[lang] = found
            engine.stateChanged.connect(self._state_changed)
            engine.moveToThread(target)  # its signals, and every call from now on, on the UI's
            with self._lock:
                self._engine, self._locales, self._problem = engine, locales, None
            log.info("lecture à voix haute : moteur %s, voix %s", name, sorted(locales))
            return
        if not tried:
            self._fail(f"no text-to-speech engine among {installed}", NO_ENGINE)
        else:
            self._fail("; ".join(tried), NOT_ANSWERING)

    def _fail(self, detail: str, reason: str) -> None:
        log.warning("lecture à voix haute impossible (%s)", detail)
        with self._lock:
            self._problem = reason

    def _ready_engine(self) -> QTextToSpeech | None:
        with self._lock:
            return self._engine

    # ---------------------------------------------------------------- the port (UI thread)
    def unavailable(self, lang: str) -> str | None:
        """Why nothing can be read in ``lang`` now (no service, no voice), or None; None also
        before the connection is made (a reading asked then waits for it)."""
        with self._lock:
            engine, problem = self._engine, self._problem
            has_voice = lang in self._locales
        if engine is None:
            return problem
        if engine.state() is _tts().State.Error:
            return NOT_ANSWERING
        if not has_voice:
            return NO_VOICE.format(language=LANGUAGE_NAMES.get(lang, lang))
        return None

    def say(self, texts: Sequence[str], lang: str) -> None:
        """Read ``texts`` in ``lang``, one after the other, after stopping the current reading.

        The first reading of a run connects to the speech service first: it is kept and read
        once connected (:meth:`speaking` is true meanwhile), unless stopped before."""
        said = [text for text in (t.strip() for t in texts) if text]
        if not said or self.unavailable(lang) is not None:
            return
        self.stop()
        engine = self._ready_engine()
        if engine is None:
            self._pending = (said, lang)
            if not self.started:
                # On the loop's next turn: the button's « Arrêter » is painted before the
                # connection holds the interpreter.
                QTimer.singleShot(0, self.start)
            return
        self._read(engine, said, lang)

    def _read(self, engine: QTextToSpeech, said: list[str], lang: str) -> None:
        engine.setLocale(self._locales[lang])
        self._left = len(said)
        for text in said:
            engine.enqueue(text)

    def speaking(self) -> bool:
        """Whether a reading is under way (between two of its texts too), or waits for the
        connection; once connected, a reading that waited starts here (the screens poll this
        on the UI thread)."""
        if self._pending is not None:
            said, lang = self._pending
            thread = self._thread
            ended = thread is not None and not thread.is_alive()
            engine = self._ready_engine()
            if engine is None:
                with self._lock:
                    connecting = self._problem is None and not ended
                if not connecting:
                    self._pending = None  # it failed: unavailable() says why
                return connecting
            self._pending = None
            if self.unavailable(lang) is None:
                self._read(engine, said, lang)
        engine = self._ready_engine()
        if engine is None:
            return False
        return self._left > 0 or engine.state() is _tts().State.Speaking

    def stop(self) -> None:
        """Stop reading now (a reading waiting for the connection too)."""
        self._left = 0
        self._pending = None
        engine = self._ready_engine()
        if engine is not None and engine.state() is not _tts().State.Ready:
            engine.stop()

    def _state_changed(self, state: QTextToSpeech.State) -> None:  # UI thread
        states = _tts().State
        if state is states.Error:
            self._left = 0
            engine = self._ready_engine()
            log.warning("lecture à voix haute interrompue : %s", engine and engine.errorString())
        elif state is states.Ready and self._left > 0:
            self._left -= 1  # one text read (Qt then starts the next one queued)
