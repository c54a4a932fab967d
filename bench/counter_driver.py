"""The expert agent of `bench/counter_bench.py`: the shortest correct path, by real input events.

:class:`Agent` walks whatever the window shows, screen by screen, through the screens' own
attributes (``window.wizard.editors[path]``, ``window.review.submit_button`` …) and touches it
only through :class:`bench.counter_fingers.Fingers`, which counts. The démarche's steps and
fields are read from the definitions, never written down here; only the *values* are: a table
keyed by field id, bind and type, and the choices that make each case. A lost tap is tapped
again (and counted again), and noted as a defect of the flow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QPoint
from PySide6.QtWidgets import QAbstractButton, QApplication, QPushButton, QScrollArea, QWidget

from bench.counter_fingers import BenchError, Fingers, PaintClock, Tally, Waiter, screen_name
from kiosk.demarches import Demarche, FieldType, group_item_count, visible_fields
from ui.widgets.fields import (
    AddressEditor,
    ChoiceEditor,
    FieldEditor,
    IdentityEditor,
    LongTextEditor,
    TextEditor,
)

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.screens.wizard import WizardScreen

#: A « Suivant » that changed nothing within this time is taken as lost.
LOST_AFTER_S = 4.0


def _days_ago(days: int) -> str:
    """A day in the past, as an agent types it on the numeric keys (JJMMAAAA, accepted)."""
    day = datetime.now(UTC).astimezone().date() - timedelta(days=days)  # the kiosk's local day
    return day.strftime("%d%m%Y")


#: Choices that make each case (anything not listed: the first option; yes/no: « non »).
CASES: dict[str, dict[str, str]] = {
    "succession": {
        "vente_sous_3_mois": "non",  # the vehicle goes to the heirs: the usual succession
        "autres_heritiers": "oui",
        "coheritier_role": "desistement",
        "plus_de_4_ans": "oui",
    },
    "changement_titulaire": {
        "qui_depose": "titulaire",
        "format_immatriculation": "siv",
        "plus_de_4_ans": "oui",
    },
    "permis_renouvellement": {"motif_renouvellement": "fin_validite"},
}
#: Repeatable groups: how many items each case adds (otherwise the group's minimum).
ITEMS: dict[str, dict[str, int]] = {"succession": {"coheritiers": 1}}
#: Everyone's choices: the person is told by text message, shows an electricity bill.
COMMON_CHOICES = {"mode_contact": "telephone", "justificatif_domicile": "facture"}
#: Typed values: by field id first, then by bind, then by type.
BY_ID = {
    "defunt_nom": "MARTIN",
    "defunt_prenoms": "Jean",
    "date_deces": _days_ago(60),
    "date_achat": _days_ago(10),
    "coheritier_nom": "MARTIN",
    "coheritier_prenoms": "Léo",
    "puissance_fiscale": "7",  # the fees' questions (assets/demarches/*.v2.toml)
    "ptac": "3500",
    "co2": "128",
}
BY_BIND = {
    "usager.nom": "MARTIN",
    "usager.prenoms": "Maëlys",
    "usager.date_naissance": "13071990",
    "usager.lieu_naissance": "Vannes",
    "vehicule.marque": "Renault",
    "mandataire.nom": "DURAND",
    "mandataire.prenoms": "Paul",
}
BY_TYPE = {
    FieldType.TEXT: "MARTIN",
    FieldType.LONG_TEXT: "Véhicule acheté en Suisse, jamais immatriculé en France.",
    FieldType.DATE: "17051980",
    FieldType.POSTCODE: "56000",
    FieldType.PHONE: "0612345678",
    FieldType.EMAIL: "martin@exemple.fr",
    FieldType.PLATE: "AB-123-CD",
    FieldType.PLATE_SIV: "AB-123-CD",
    FieldType.PLATE_FNI: "1234 AB 56",
    FieldType.VIN: "VF1RFB00X56789012",
    FieldType.EPHOTO: "ABCD1234EFGH5678JKLM90",
}
ADDRESS = {
    "ligne": "12 rue de la Paix",
    "complement": "",
    "code_postal": "56000",
    "commune": "Vannes",
}
IDENTITY = ("cni", "X4RTBPFW4")


class Agent:
    """An expert agent: the shortest correct path through whatever the window shows."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.wait = Waiter(window)
        self.fingers = Fingers(window, self.wait)
        self.clock = PaintClock(window)
        self._last_screen: tuple[object, str] | None = None
        self._case: dict[str, str] = {}
        self._items: dict[str, int] = {}

    # ------------------------------------------------------------------ screens crossed
    def _signature(self) -> tuple[object, str]:
        screen = self.window.stack.currentWidget()
        if screen is not None and screen is getattr(self.window, "wizard", None):
            return screen, self.window.wizard.title.text()
        return screen, ""

    def _observe(self) -> None:
        """Count a screen change (a new screen, or a new wizard step) once it has settled."""
        now = self._signature()
        if now != self._last_screen:
            self._last_screen = now
            if self.fingers.counting:
                self.fingers.tally.screens += 1

    def settle(self, limit: float = 30.0) -> None:
        self.wait.settle(limit)
        self._observe()

    def _screen(self, name: str) -> QWidget:
        screen = getattr(self.window, name, None)
        if not isinstance(screen, QWidget):
            raise BenchError(f"la fenêtre n'a pas d'écran « {name} » (renommé ?)")
        return screen

    def _control(self, screen: str, name: str) -> QAbstractButton:
        control = getattr(self._screen(screen), name, None)
        if not isinstance(control, QAbstractButton):
            raise BenchError(f"écran {screen} : pas de bouton « {name} » (renommé ?)")
        return control

    # ------------------------------------------------------------------ sign-in (not counted)
    def sign_in(self, pin: str = "0000") -> None:
        self.wait.until(
            lambda: hasattr(self.window, "home") and bool(self.window.signin._buttons),
            "chargement des services et de la liste des agents",
            120.0,
        )
        keys = {b.text(): b for b in self.window.signin.findChildren(QPushButton)}
        for key in [*pin, "OK"]:
            if key not in keys:
                raise BenchError(f"connexion : pas de touche « {key} » sur le clavier du PIN")
            self.fingers.tap_button(keys[key], f"touche {key}")
        self.settle()
        if self.window.stack.currentWidget() is not self._screen("home"):
            raise BenchError(f"connexion refusée : {self.window.signin.error.text()}")

    # ------------------------------------------------------------------ one dossier
    def file(self, demarche_id: str) -> tuple[Tally, str]:
        """Start a dossier from the home screen and file it; return its cost and reference."""
        self.fingers.tally = Tally()
        self.fingers.counting = True
        self._case = CASES.get(demarche_id, {})
        self._items = ITEMS.get(demarche_id, {})
        self._last_screen = self._signature()
        home = self._screen("home")
        tiles = getattr(home, "tiles", {})
        if demarche_id not in tiles:
            raise BenchError(f"accueil : pas de tuile pour la démarche « {demarche_id} »")
        self.fingers.tap_button(tiles[demarche_id], f"tuile {demarche_id}")
        reference = ""
        filed = False
        for _ in range(120):
            self.settle()
            screen = self.window.stack.currentWidget()
            if screen is home:
                if filed:
                    break
                raise BenchError(f"{demarche_id} : retour à l'accueil avant le reçu")
            if screen is getattr(self.window, "receipt", None):
                self._receipt()
                filed = True
                continue
            if screen is getattr(self.window, "wizard", None):
                reference = self.window.wizard.reference or reference
            self._act_on(screen)
        else:
            raise BenchError(f"{demarche_id} : toujours pas déposé après 120 écrans")
        self.fingers.counting = False
        if not reference:
            raise BenchError(f"{demarche_id} : déposé sans que l'assistant en montre la référence")
        # Back on the home screen: the start of the next person, not a screen of this dossier.
        self.fingers.tally.screens -= 1
        return self.fingers.tally, reference

    def _act_on(self, screen: QWidget | None) -> None:
        window = self.window
        if screen is getattr(window, "wizard", None):
            self._wizard_step()
        elif screen is getattr(window, "documents", None):
            # Documents may be brought later (« à apporter », listed on the receipt): an expert
            # files at once, as the flow allows.
            self._timed_next(self._control("documents", "next_button"), "« Suivant »")
        elif screen is getattr(window, "consent", None):
            self._consent()
        elif screen is getattr(window, "review", None):
            self._review()
        else:
            button = getattr(screen, "next_button", None)
            if not isinstance(button, QAbstractButton) or not button.isVisible():
                raise BenchError(
                    f"écran inconnu du banc : {screen_name(window)} (pas de next_button visible)"
                )
            self.fingers.tally.defects.append(f"écran non prévu parcouru : {screen_name(window)}")
            self._timed_next(button, "next_button")

    # ------------------------------------------------------------------ wizard
    def _wizard_step(self) -> None:
        wizard = self.window.wizard
        self._read_card(wizard)
        typed: set[str] = set()
        for _ in range(80):
            pending = [
                (path, editor)
                for path, editor in wizard.editors.items()
                if editor.field.required and path not in wizard.answers and path not in typed
            ]
            if pending:
                path, editor = pending[0]
                self._answer(path, editor)
                typed.add(path)
                self.settle()
                continue
            if not self._add_group_item(wizard):
                break
        else:
            raise BenchError(f"{screen_name(self.window)} : l'étape ne se termine pas")
        self._timed_next(wizard.next_button, "« Suivant »")

    def _read_card(self, wizard: WizardScreen) -> None:
        """The identity step: the card on the reader, its CAN typed, the reading used."""
        panel = wizard.identity_panel
        answers = wizard.answers
        asked = [
            p
            for p, e in wizard.editors.items()
            if e.field.type is FieldType.IDENTITY_DOCUMENT and p not in answers
        ]
        if panel is None or not asked:
            return
        can = self.window.services.training_can
        if not can:
            raise BenchError(
                f"{screen_name(self.window)} : pas de carte simulée (pcscd et vpcd démarrés ? "
                "un autre processus tient-il le lecteur virtuel ?)"
            )
        self.fingers.type_text(panel.can, can, "CAN")
        self.fingers.tap_button(panel.read_button, "« Lire la carte »")
        self.settle(60.0)
        if panel.reading is None:
            raise BenchError(f"{screen_name(self.window)} : lecture : {panel.status.text()}")
        self.fingers.tap_button(panel.confirm, "« Utiliser ces informations »")
        self.settle()

    def _answer(self, path: str, editor: FieldEditor) -> None:
        field_ = editor.field
        what = f"champ {path}"
        if isinstance(editor, ChoiceEditor):
            key = self._case.get(field_.id) or COMMON_CHOICES.get(field_.id)
            if key is None:
                key = "non" if field_.type is FieldType.BOOLEAN else next(iter(editor.buttons))
            if key not in editor.buttons:
                raise BenchError(f"{screen_name(self.window)} : {what} n'offre pas « {key} »")
            self.fingers.tap_button(editor.buttons[key], f"{what} = {key}")
        elif isinstance(editor, AddressEditor):
            for part in editor.required_parts:
                box = editor.edits[part]
                self.fingers.type_text(box, ADDRESS[part], f"{what}.{part}", enter=True)
        elif isinstance(editor, IdentityEditor):
            nature, number = IDENTITY
            self.fingers.tap_button(editor.buttons[nature], f"{what} = {nature}")
            self.fingers.type_text(editor.number, number, f"{what} (numéro)", enter=True)
        elif isinstance(editor, TextEditor | LongTextEditor):
            value = (
                BY_ID.get(field_.id) or BY_BIND.get(field_.bind or "") or BY_TYPE.get(field_.type)
            )
            if value is None:
                raise BenchError(f"{screen_name(self.window)} : pas de valeur pour {what}")
            # Enter moves on to the next question (a long text takes Enter as a new line).
            self.fingers.type_text(editor.edit, value, what, enter=isinstance(editor, TextEditor))
        else:
            raise BenchError(
                f"{screen_name(self.window)} : {what} ({field_.type.value}) : "
                f"éditeur {type(editor).__name__} inconnu du banc"
            )

    def _add_group_item(self, wizard: WizardScreen) -> bool:
        """Tap « Ajouter » on a repeatable group still short of the case's items."""
        demarche, answers = wizard.demarche, wizard.answers
        if demarche is None:
            raise BenchError(f"{screen_name(self.window)} : aucune démarche chargée")
        for button in wizard.findChildren(QPushButton):
            name = button.objectName()
            if not name.startswith("add-") or not button.isVisible():
                continue
            group_id = name.removeprefix("add-")
            wanted = self._items.get(group_id, demarche.group(group_id).min_items)
            if group_item_count(group_id, answers) < wanted:
                self.fingers.tap_button(button, f"« Ajouter » ({group_id})")
                self.settle()
                return True
        return False

    def _timed_next(self, button: QAbstractButton, what: str) -> None:
        """Tap a « Suivant » and time it until the next step is painted (a lost tap: again)."""
        before = self._signature()
        for attempt in range(3):
            self.clock.arm()
            try:
                taken = self.fingers.tap(button, what)
                released = self.fingers.released_at
                elapsed = self._until_painted(before, released)
            finally:
                self.clock.disarm()
            if elapsed is not None:
                if self.fingers.counting:
                    self.fingers.tally.suivant_ms.append(elapsed * 1000)
                self._observe()
                return
            self._stuck(what, taken)
            self.fingers.lost(what, attempt)
        raise BenchError(f"{screen_name(self.window)} : {what} ne mène nulle part après 3 taps")

    def _until_painted(self, before: tuple[object, str], released: float) -> float | None:
        """Seconds from the release to the next step painted; None if nothing changed."""
        lost_at = time.monotonic() + LOST_AFTER_S
        give_up = time.monotonic() + 60.0  # a save or a load that never reports
        while time.monotonic() < give_up:
            if self.window.runner.idle and self._signature() != before:
                since = max(released, self.clock.idle_at)
                painted = self.clock.painted(self._content(), since)
                if painted is not None:
                    return painted - released
            elif self.window.runner.idle and time.monotonic() > lost_at:
                return None
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        raise BenchError(f"{screen_name(self.window)} : l'étape suivante n'est jamais peinte")

    def _content(self) -> QWidget:
        """What the new step shows: its scrolling page when it has one, else the screen."""
        screen = self.window.stack.currentWidget()
        if screen is None:
            raise BenchError("la fenêtre ne montre aucun écran")
        area = getattr(screen, "scroll_area", None)
        page = area.widget() if isinstance(area, QScrollArea) else None
        return page if page is not None else screen

    def _stuck(self, what: str, taken: bool) -> None:
        """A « Suivant » that led nowhere: an answer refused is the driver's fault, say which."""
        screen = self.window.stack.currentWidget()
        if screen is not None and screen is getattr(self.window, "wizard", None):
            wizard = self.window.wizard
            refused = [
                f"{p} : {e.message.text()}"
                for p, e in wizard.editors.items()
                if e.message.objectName() == "error"
            ]
            notice = wizard.notice.text() if wizard.notice.objectName() == "error" else ""
            if refused or notice:
                raise BenchError(f"{screen_name(self.window)} : {what} refusé : {notice} {refused}")
        if taken:  # clicked, yet nothing came: say so beside the lost tap
            self.fingers.tally.defects.append(f"{screen_name(self.window)} : {what} sans effet")

    # ------------------------------------------------------------------ the end of the flow
    def _consent(self) -> None:
        consent = self._screen("consent")
        onward = getattr(consent, "continue_button", None)
        if isinstance(onward, QAbstractButton) and onward.isVisible():
            # Signed: « Continuer » (the person's copy is not printed in the bench).
            self.fingers.tap_button(onward, "« Continuer »")
            return
        pad = getattr(consent, "pad", None)
        if pad is None:
            raise BenchError("mandat : pas de zone de signature « pad »")
        height = pad.height()
        stroke = [QPoint(40 + 12 * i, height // 2 + round(30 * math.sin(i / 2))) for i in range(40)]
        self.fingers.drag(pad, stroke, "signature")
        sign = self._control("consent", "sign_button")
        self.wait.until(sign.isEnabled, "« Signer » activé par la signature", 5.0)
        self.fingers.tap_button(sign, "« Signer »")

    def _review(self) -> None:
        submit = self._control("review", "submit_button")
        if not submit.isEnabled():
            error = getattr(self.window.review, "error", None)
            detail = error.text() if error is not None else ""
            raise BenchError(f"vérification : « Déposer » désactivé {detail}")
        self.fingers.tap_button(submit, "« Déposer »")

    def _receipt(self) -> None:
        self.wait.until(lambda: self.window.runner.idle, "reçu construit et imprimé", 60.0)
        self.fingers.tap_button(self._control("receipt", "done_button"), "« Terminer »")


def floor(demarche: Demarche, answers: Mapping[str, Any]) -> int:
    """The questions the démarche asked on the path taken (see bench/counter_bench.py)."""
    shown = visible_fields(demarche, answers)
    questions = sum(1 for _path, item in shown if item.required)
    groups = {path.split("[", 1)[0] for path, _ in shown if "[" in path}
    return questions + sum(group_item_count(g, answers) for g in groups)


__all__ = ["Agent", "BenchError", "floor"]
