"""Documents: the checklist the answers call for, each attached from the scanner's folder,
photographed with the counter's camera, or scanned by the kiosk itself (« Numériser », a SANE
scanner), with thumbnails. What is not attached is listed on the receipt.

The scanner's folder holds people's papers in plain text. The picker offers only the scans that
arrived since the dossier was opened at the counter (:meth:`DocumentsScreen.begin_session`), a scan
attached is deleted from the folder, and when the session ends (« Accueil », « Terminer », the
lock) the scans never attached are deleted too: the next person sees nothing of the previous one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.demarches import required_documents
from kiosk.dossiers.attachments import Attached, ScanAttached
from kiosk.dossiers.views import Document, DossierView
from kiosk.ports.devices import CameraFault, ScanError, ScannedFile
from ui.i18n import Translator
from ui.images import decoded
from ui.screens.base import Screen
from ui.services import DocumentsServices
from ui.tasks import TaskRunner
from ui.widgets.camera import CaptureView
from ui.widgets.scrolling import drop_page, scroll_back

log = logging.getLogger(__name__)

THUMB = 120


def thumbnail(data: bytes, mime_type: str) -> QImage:
    """A small image of a document (worker thread: decoded by Pillow, see ui/images.py)."""
    image = decoded(data, max_side=THUMB) if mime_type.startswith("image/") else None
    return image if image is not None else QImage()


@dataclass(frozen=True)
class _Loaded:
    view: DossierView
    attached: list[Attached]
    thumbs: dict[str, QImage]


class DocumentsScreen(Screen):
    """One row per required document: its state, its thumbnail, « Joindre » (from the scanner's
    folder), « Numériser » when a SANE scanner is set, and « Photographier » when a camera is
    plugged in."""

    back = Signal(str)
    proceed = Signal(str)

    def __init__(
        self,
        services: DocumentsServices,
        runner: TaskRunner,
        tr: Translator,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(runner, tr)
        self.services = services
        self._clock = clock
        #: When the dossier at the counter was opened: only scans that arrived since are offered.
        self.session_since: datetime | None = None
        self.reference = ""
        self.help = self.add_label("muted")
        #: Why there is no « Photographier » button (no camera), hidden otherwise.
        self.camera_note = self.add_label("muted")
        self.camera_note.hide()
        #: « Numérisation… » while the SANE scanner works, hidden otherwise.
        self.scan_note = self.add_label("muted")
        self.scan_note.hide()
        self.scroll_area = self.add_scroll_area()
        self.error = self.add_label("error")
        self.back_button, self.next_button = self.add_nav()
        self.back_button.clicked.connect(lambda: self.back.emit(self.reference))
        self.next_button.clicked.connect(lambda: self.proceed.emit(self.reference))
        self.rows: dict[tuple[str, str | None], QPushButton] = {}
        self.camera_buttons: dict[tuple[str, str | None], QPushButton] = {}
        self.scan_buttons: dict[tuple[str, str | None], QPushButton] = {}
        self.thumbs: dict[tuple[str, str | None], QLabel] = {}
        self._loaded: _Loaded | None = None
        #: Whether a page is being scanned, and which scan is the latest (an answer for an
        #: earlier one, after the lock, is ignored).
        self._scanning = False
        self._scans = 0
        #: Why the last scan failed (its catalogue key, re-worded on a change of language).
        self._scan_problem = ""
        self._picking: tuple[Document, list[tuple[ScannedFile, QImage]]] | None = None
        #: The camera view while a document is being photographed.
        self.capture: CaptureView | None = None
        self._capturing: Document | None = None
        self._camera_ok = False
        #: Where the checklist was scrolled when it was left for the scanner's files or the
        #: camera: it comes back there once the document is attached (or not).
        self._checklist_at: int | None = None
        #: The document whose scans or camera were just left: its row takes the focus back.
        self._back_at: tuple[str, str | None] | None = None
        self.retranslate()

    def begin_session(self) -> None:
        """A dossier is opened at the counter: the scans from now on are this person's (kept
        until the session ends, whichever screen the dossier is opened from)."""
        if self.session_since is None:
            self.session_since = self._clock()

    def open(self, reference: str, *, back_in_place: bool = False) -> None:
        """Load the checklist and the thumbnails off the UI thread (``back_in_place``: where it
        was left, after an attachment)."""
        self.begin_session()  # (a dossier reached without the window saying so: from now on)
        self._end_capture()
        if not back_in_place:
            self._checklist_at = None
            self._back_at = None
        self.reference = reference
        self.error.clear()
        self.error.setToolTip("")
        self._scan_problem = ""

        def load() -> _Loaded:  # worker thread
            view = self.services.dossiers.show(reference)
            attached = self.services.attachments.list(reference)
            thumbs = {
                str(a.path): thumbnail(self.services.attachments.read(a.path), a.mime_type)
                for a in attached
            }
            return _Loaded(view, attached, thumbs)

        self.runner.run(
            load, on_done=self._show, on_error=lambda e: self.error.setText(self.tr_.error(e))
        )

    def _show(self, loaded: _Loaded) -> None:
        self._loaded = loaded
        self._picking = None
        page = QWidget()
        layout = QVBoxLayout(page)
        self.rows = {}
        self.camera_buttons = {}
        self.scan_buttons = {}
        self.thumbs = {}
        documents = loaded.view.documents
        self._camera_ok = self._camera_usable()
        self.camera_note.setVisible(not self._camera_ok and bool(documents))
        if not documents:
            layout.addWidget(QLabel(self.tr_.t("documents.none_required")))
        for doc in documents:
            layout.addWidget(self._row(doc, loaded))
        layout.addStretch(1)
        self.scroll_area.setWidget(page)
        if self._checklist_at is not None:
            scroll_back(self.scroll_area, self._checklist_at)
            self._checklist_at = None
        self._settle_focus(self.rows.get(self._back_at) if self._back_at else None)
        self._back_at = None

    def _settle_focus(self, target: QWidget | None) -> None:
        """Tab in reading order on the page just built, the focus on ``target`` (back from the
        scanner's files or the camera: the document's « Joindre ») or, if it was lost with the
        old page, on the title: never nowhere, where the next Tab starts at the top bar."""
        self.order_tabs()
        if not self.isVisible():
            return
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            self.scroll_area.ensureWidgetVisible(target)
            return
        focused = QApplication.focusWidget()
        if focused is None or not self.isAncestorOf(focused) or not focused.isVisible():
            self.take_focus()

    def _leave_checklist(self) -> None:
        if self._picking is None and self.capture is None:  # (not a language switch there)
            self._checklist_at = self.scroll_area.verticalScrollBar().value()

    def _label(self, doc: Document, loaded: _Loaded) -> str:
        """The document's label in the person's language (the checklist is evaluated again on
        the translated démarche: same kinds, translated labels)."""
        summary = loaded.view.summary
        demarche = self.services.catalog.get(
            summary.demarche_id, summary.demarche_version, lang=self.tr_.lang
        )
        for requirement in required_documents(demarche, loaded.view.answers):
            if (requirement.kind, requirement.item_path) == (doc.kind, doc.item_path):
                return requirement.label
        return doc.label

    def _row(self, doc: Document, loaded: _Loaded) -> QFrame:
        box = QFrame()
        box.setObjectName("panel")
        row = QHBoxLayout(box)
        thumb = QLabel()
        thumb.setFixedSize(THUMB, THUMB)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        match = next(
            (
                a
                for a in reversed(loaded.attached)
                if (a.kind, a.item_path) == (doc.kind, doc.item_path)
            ),
            None,
        )
        if match is not None:
            # Named for a screen reader, like the picture it shows.
            thumb.setAccessibleName(self.tr_.t("a11y.thumbnail", document=self._label(doc, loaded)))
            image = loaded.thumbs.get(str(match.path))
            if image is not None and not image.isNull():
                thumb.setPixmap(QPixmap.fromImage(image))
            else:
                thumb.setText("PDF")
        row.addWidget(thumb)
        self.thumbs[(doc.kind, doc.item_path)] = thumb
        label = self._label(doc, loaded)
        text = QLabel(
            f"<b>{label}</b><br/>"
            + self.tr_.t("documents.provided" if doc.provided else "documents.missing")
        )
        text.setWordWrap(True)
        row.addWidget(text, 1)
        attach = QPushButton(self.tr_.t("documents.attach"))
        attach.setAccessibleName(f"{self.tr_.t('documents.attach')} : {doc.label}")
        attach.clicked.connect(lambda _=False, d=doc: self._pick(d))
        row.addWidget(attach)
        self.rows[(doc.kind, doc.item_path)] = attach
        if self.services.scanner is not None:
            scan = QPushButton(self.tr_.t("documents.scan"))
            scan.setAccessibleName(self.tr_.t("documents.scan_for", document=label))
            scan.setEnabled(not self._scanning)
            scan.clicked.connect(lambda _=False, d=doc: self._scan(d))
            row.addWidget(scan)
            self.scan_buttons[(doc.kind, doc.item_path)] = scan
        if self._camera_ok:
            photo = QPushButton(self.tr_.t("documents.camera"))
            photo.setAccessibleName(self.tr_.t("documents.camera_for", document=label))
            photo.clicked.connect(lambda _=False, d=doc: self._photograph(d))
            row.addWidget(photo)
            self.camera_buttons[(doc.kind, doc.item_path)] = photo
        return box

    # ----------------------------------------------------------------------------- scanner
    def _scan(self, doc: Document) -> None:
        """Scan the page on the scanner's glass and attach it to ``doc``, off the UI thread."""
        scanner = self.services.scanner
        if scanner is None or self._scanning:
            return
        reference, agent_id = self.reference, self.agent_id
        self._scans += 1
        token = self._scans

        def scan() -> None:  # worker thread: seconds at the scanner, then the store
            page = scanner.scan()
            self.services.attachments.attach(
                reference,
                doc.kind,
                page.data,
                page.mime_type,
                item_path=doc.item_path,
                agent_id=agent_id,
            )

        self._scanning = True
        self._scan_problem = ""
        self.error.clear()
        self.error.setToolTip("")
        self.scan_note.setText(self.tr_.t("documents.scanning"))
        self.scan_note.show()
        for button in self.scan_buttons.values():
            button.setEnabled(False)
        self._leave_checklist()
        self._back_at = (doc.kind, doc.item_path)
        self.runner.run(
            scan,
            on_done=lambda _none: self._scanned(token, reference),
            on_error=lambda e: self._scan_failed(token, reference, e),
        )

    def _scan_over(self, token: int, reference: str) -> bool:
        """End the scan ``token``; whether its answer is still wanted: the latest scan, for
        the dossier on screen (not a late one after the lock or for a dossier left since)."""
        if token != self._scans or not self._scanning:
            return False
        self._scanning = False
        self.scan_note.hide()
        for button in self.scan_buttons.values():
            button.setEnabled(True)
        return reference == self.reference

    def _scanned(self, token: int, reference: str) -> None:
        if self._scan_over(token, reference):
            self.open(reference, back_in_place=True)  # its thumbnail, « Fourni »

    def _scan_failed(self, token: int, reference: str, exc: Exception) -> None:
        if not self._scan_over(token, reference):
            return
        log.warning("page non numérisée : %s", exc)  # the scanner's French words, for the agent
        if isinstance(exc, ScanError):
            self._scan_problem = f"scanner.{exc.fault.value}"
            self.error.setText(self.tr_.t(self._scan_problem))
            self.error.setToolTip(str(exc))
        else:  # the store refused the page (disk full…): said as any attachment's error
            self.error.setText(self.tr_.error(exc))

    # ------------------------------------------------------------------------------ camera
    def _camera_usable(self) -> bool:
        """Whether to offer « Photographier »; if not, the note says why (UI thread: the
        lookup lists the video inputs, well under a millisecond once Qt Multimedia is up)."""
        camera = self.services.camera
        problem = camera.problem() if camera is not None else None
        if camera is None or (problem is not None and problem.fault is CameraFault.ABSENT):
            self.camera_note.setText(self.tr_.t("camera.absent"))
            return False
        return True

    def _photograph(self, doc: Document) -> None:
        """Show the camera's preview in place of the checklist, for ``doc``."""
        camera = self.services.camera
        if camera is None:
            return
        reference, agent_id = self.reference, self.agent_id
        label = self._label(doc, self._loaded) if self._loaded is not None else doc.label

        def save(data: bytes, mime_type: str) -> None:  # worker thread
            self.services.attachments.attach(
                reference, doc.kind, data, mime_type, item_path=doc.item_path, agent_id=agent_id
            )

        self.error.clear()
        self._scan_problem = ""
        self.camera_note.hide()
        self._leave_checklist()
        view = CaptureView(camera, self.runner, self.tr_, document=label, save=save)
        view.finished.connect(lambda _kept: self._capture_done(view, reference))
        self.capture, self._capturing = view, doc
        # In place of the checklist, not inside its scroll area: the preview takes the height
        # there is, and the view's buttons stay on screen. « Annuler » or « Garder » leave it.
        self.help.hide()
        self.scroll_area.hide()
        self.back_button.hide()
        self.next_button.hide()
        self.layout_.insertWidget(self.layout_.indexOf(self.scroll_area) + 1, view, 1)
        self._back_at = (doc.kind, doc.item_path)
        view.start()
        self.order_tabs()
        view.heading.setFocus(Qt.FocusReason.OtherFocusReason)  # what is photographed

    def _capture_done(self, view: CaptureView, reference: str) -> None:
        if view is self.capture:  # not a late answer for a view the lock already closed
            self.open(reference, back_in_place=True)

    def _end_capture(self) -> None:
        """Switch the camera off, drop the view and give the screen its checklist back."""
        view, self.capture, self._capturing = self.capture, None, None
        if view is not None:
            view.close_view()
            self.layout_.removeWidget(view)
            # Parentless, the view lives on only while a job still holds it (it then ignores
            # the answer), instead of being deleted under that job.
            view.setParent(None)
        self.help.show()
        self.scroll_area.show()
        self.back_button.show()
        self.next_button.show()

    def _pick(self, doc: Document) -> None:
        """Offer the scanner folder's latest files of this session as big thumbnails."""
        since = self.session_since
        self._scan_problem = ""  # (an error of the folder is not re-worded as the scanner's)
        self.runner.run(
            lambda: [
                (f, thumbnail(self.services.scans.read(f), f.mime_type))
                for f in self.services.scans.files(since=since)
            ],
            on_done=lambda files: self._show_picker(doc, files),
            on_error=lambda e: self.error.setText(self.tr_.error(e)),
        )

    def _show_picker(self, doc: Document, files: list[tuple[ScannedFile, QImage]]) -> None:
        self._leave_checklist()
        self._picking = (doc, files)
        page = QWidget()
        layout = QVBoxLayout(page)
        label = self._label(doc, self._loaded) if self._loaded is not None else doc.label
        heading = QLabel(self.tr_.t("documents.pick", document=label))
        heading.setObjectName("subtitle")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        grid = QGridLayout()
        if not files:
            folder = getattr(self.services.scans, "folder", "")
            empty = QLabel(self.tr_.t("documents.no_scan", folder=folder))
            empty.setObjectName("no-scan")
            empty.setWordWrap(True)
            layout.addWidget(empty)
        for i, (scanned, image) in enumerate(files):
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setText(scanned.path.name[:24])
            button.setAccessibleName(scanned.path.name)
            button.setObjectName(f"scan-{i}")
            if not image.isNull():
                button.setIcon(QPixmap.fromImage(image))
                button.setIconSize(image.size())
            button.clicked.connect(lambda _=False, f=scanned: self._attach(doc, f))
            grid.addWidget(button, i // 4, i % 4)
        layout.addLayout(grid)
        cancel = QPushButton(self.tr_.t("documents.cancel"))
        cancel.clicked.connect(lambda: self.open(self.reference, back_in_place=True))
        layout.addWidget(cancel)
        layout.addStretch(1)
        self.scroll_area.setWidget(page)
        self._back_at = (doc.kind, doc.item_path)
        self._settle_focus(heading if self.isVisible() else None)

    def _attach(self, doc: Document, scanned: ScannedFile) -> None:
        reference, agent_id = self.reference, self.agent_id  # the agent goes to the audit

        def attach() -> ScanAttached:  # worker thread
            return self.services.attachments.attach_scan(
                reference,
                doc.kind,
                self.services.scans,
                scanned,
                item_path=doc.item_path,
                agent_id=agent_id,
            )

        def attached(result: ScanAttached) -> None:
            self.open(reference, back_in_place=True)
            if result.left_in_folder is not None:  # attached all the same; said after open()
                folder = getattr(self.services.scans, "folder", "")
                self.error.setText(
                    self.tr_.t("documents.scan_left", name=scanned.path.name, folder=folder)
                )

        self.runner.run(
            attach,
            on_done=attached,
            on_error=lambda e: self.error.setText(self.tr_.error(e)),
        )

    def retranslate(self) -> None:
        self.title.setText(self.tr_.t("documents.title"))
        self.help.setText(self.tr_.t("documents.help"))
        self.back_button.setText(self.tr_.t("wizard.back"))
        self.next_button.setText(self.tr_.t("wizard.next"))
        if self._scanning:
            self.scan_note.setText(self.tr_.t("documents.scanning"))
        if self._scan_problem:
            self.error.setText(self.tr_.t(self._scan_problem))
        if self.capture is not None and self._capturing is not None:
            doc = self._capturing
            label = self._label(doc, self._loaded) if self._loaded is not None else doc.label
            self.capture.retranslate(label)
        elif self._picking is not None:
            self._show_picker(*self._picking)
        elif self._loaded is not None:
            self._checklist_at = self.scroll_area.verticalScrollBar().value()  # stays there
            self._show(self._loaded)

    def clear_personal_data(self) -> None:
        if self.session_since is not None:
            # The session ends: the scans never attached go (an attached one is gone already).
            # All of them: the leaving person's, or ones too early to be the next person's (the
            # picker offers only what arrives after a dossier is opened).
            self.runner.run(self.services.scans.sweep)  # a failure is logged; swept later
            self.session_since = None
        self._end_capture()
        self.reference = ""
        self._loaded = None
        self._picking = None
        self._checklist_at = None
        self._back_at = None
        self._scanning = False  # a scan under way still attaches its page, to its dossier
        self._scan_problem = ""
        self.scan_note.hide()
        self.error.setToolTip("")
        self.rows = {}
        self.camera_buttons = {}
        self.scan_buttons = {}
        self.thumbs = {}
        drop_page(self.scroll_area)
