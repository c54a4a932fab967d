"""Builds the services one kiosk process uses, from its resolved settings (the composition root).

The settings (app/settings/) arrive resolved and frozen; each object gets the values it needs as
plain arguments. Nothing here reads or writes the environment.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.lazy_devices import LazyCamera, LazyGlyphReader, LazyTextReader, Once
from app.settings import Settings
from devices.capture import FolderSource, write_sample_scans
from devices.printing import CupsPrinter, FolderPrinter
from devices.sane import SaneScanner
from kiosk.demarches import Catalog
from kiosk.demarches.installed import KIND as DEMARCHES
from kiosk.demarches.installed import LiveCatalog
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.base import utc_now
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.receipts import FollowReceipt, ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.fees import default_tariffs_dir
from kiosk.fees.installed import KIND as TARIFS
from kiosk.fees.installed import TariffFiles
from kiosk.followup.letter_desk import LetterDesk
from kiosk.followup.letters import LetterService
from kiosk.followup.national_documents import NationalDocuments
from kiosk.followup.worklist import FollowUpService
from kiosk.identity.errors import NoReader
from kiosk.ports.devices import Camera, ConnectionBadge, GlyphReader, Printer, Speech, TextReader
from kiosk.ports.identity import IdentityReader
from kiosk.ports.national import ReceiptApi
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditLog
from kiosk.security.retention import RetentionService
from kiosk.security.revocation import Withdrawal, plan_for, refuse_if_withdrawn
from kiosk.settings.paths import Paths, assets_dir
from kiosk.site.counter import CounterSettings
from kiosk.site.screen import ScreenSettings
from kiosk.store import Store, open_store
from kiosk.store.documents import DocumentStore, SiteDocuments, encrypt_plain_documents
from kiosk.store.engine import StoreReadOnly
from kiosk.updates import BundleFolder
from ui.services import IdentityPhotos, UiServices

if TYPE_CHECKING:  # app.sync_setup imports this module; sync's modules load with the sync
    from app.sync_setup import SyncSettings
    from kiosk.ports.national import SiteKiosk
    from kiosk.security.agents import AgentInfo
    from kiosk.sync.fleet import SiteKiosksService, SiteView
    from sync.worker import SyncStatus, SyncThread

log = logging.getLogger(__name__)


@dataclass
class Container:
    """The open store and the services built on it; close it when the process ends."""

    paths: Paths
    store: Store
    catalog: Catalog
    dossiers: DossierService
    counter: CounterSettings
    receipts: ReceiptService
    documents: DocumentStore
    closers: list[Callable[[], None]] = field(default_factory=list)
    #: Training mode's own reference national server (its address), None otherwise.
    reference_url: str | None = None
    #: What this kiosk destroys if the national service says it was revoked (a lost tablet).
    withdrawal: Withdrawal | None = None

    def close(self) -> None:
        """Stop what was started (simulated card…) and release the database."""
        for closer in reversed(self.closers):
            closer()
        self.store.close()


def build_ui(
    settings: Settings,
    *,
    training: bool = False,
    sync: bool = True,
    settings_file: Path | None = None,
    credentials_file: Path | None = None,
    external_sync: bool = False,
) -> tuple[UiServices, Container]:
    """Everything the touchscreen application needs.

    ``external_sync``: another process sends (the installed kiosk's sync service,
    app/sync_link.py); this one shows its status and nudges it. Training mode always sends
    itself, to its own reference server.

    Training mode (``--demo``) works in its own data folder, so that practice dossiers never mix
    with real ones, creates a "formation" agent (PIN 0000) if there is none, "prints" receipts
    into a folder, puts a simulated CNIe on the virtual reader and sends dossiers to a reference
    national server of its own on loopback.

    ``settings_file``: where the settings were read from (or would be); a kiosk with no
    credentials offers to enrol itself into it (« Borne à configurer », docs/sites.md).
    ``credentials_file``: the settings file holding the national secret, which a revoked kiosk
    removes it from.
    """
    folder = settings.data_dir / "formation"
    if training:
        # Never the site's shared store: training dossiers stay in the training folder.
        settings = replace(
            settings, data_dir=folder, database=folder / "kiosk.sqlite3", database_url=None
        )
    server = None
    if training and sync:
        folder.mkdir(parents=True, exist_ok=True)
        # Its port now, its process with the start-up's later work (or at the first lookup).
        server = _ReferenceServer(folder / "service-national.sqlite3")
    try:
        container = build(settings, training=training, credentials_file=credentials_file)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    if server is not None:
        container.closers.append(server.stop)
        container.reference_url = f"http://127.0.0.1:{server.port}"
    if container.store.read_only:
        # The counter writes at every step (sign-in, answers, audit): said at once, on the
        # sign-in screen, rather than at the first tap. The console still reads it.
        container.close()
        raise StoreReadOnly(
            f"La borne ne peut pas démarrer : son dossier de données {container.paths.data_dir}"
            " est en lecture seule, rien ne pourrait y être enregistré. Rendez-le accessible en"
            " écriture, puis relancez la borne (les dossiers restent consultables avec la"
            " commande kiosk dossier list)."
        )
    agents = AgentService(container.store)
    if training and not agents.list():
        agents.add("formation", "Agent de formation", "0000")
    printer: Printer
    if training:
        printer = FolderPrinter(container.paths.data_dir / "recus")
    else:
        printer = counter_printer(settings)
    documents = container.documents
    # Training mode's made-up scans are always offered and never deleted (no one's papers).
    samples = write_sample_scans(settings.scan_folder) if training else []
    scans = FolderSource(settings.scan_folder, keep=samples)
    camera: Camera
    if training:  # the simulated camera films the sample scans
        from devices.camera.simulated import SimulatedCamera

        camera = SimulatedCamera(samples)
    else:  # Qt Multimedia: loaded when the screen first asks, on the UI thread (issue 18)
        camera = LazyCamera(partial(_qt_camera, settings.camera))
    identity_photos = _identity_photos(camera, training=training)
    # « Numériser » only where a SANE scanner is named (nothing is probed: that takes seconds).
    scanner = SaneScanner(settings.scanner) if settings.scanner else None
    speech = _speech(settings.speech_volume)
    container.closers.append(speech.stop)
    identity, training_can = _identity_reader(container, settings.reader, training=training)
    _start_purge(container, settings, scans)
    ui_sync = (
        None
        if not sync
        else _link_sync(container, settings)
        if external_sync and not training
        else _sync(container, settings, server)
    )
    lookup = _receipt_lookup(container, settings, server) if sync else None
    # What the home screen does not wait for (issue 18): the window runs it once the home
    # screen is painted. The training server's start was on the critical path on one core (the
    # sync waited for it), and so was one receipt rendered to warm the PDF engine up: done at
    # the first real receipt, the font parsing and subsetting would freeze the screen. The
    # warm-up comes first, while the server's process starts: the sync then waits for it.
    later = _Later(
        [
            *([server.start] if server is not None else []),
            _warm_up_receipts,
            *([ui_sync.start] if isinstance(ui_sync, _BackgroundSync) else []),
        ]
    )
    container.closers.append(later.close)
    withdrawal = container.withdrawal
    services = UiServices(
        catalog=container.catalog,
        dossiers=container.dossiers,
        receipts=container.receipts,
        agents=agents,
        printer=printer,
        attachments=Attachments(container.store, container.catalog, documents),
        mandates=MandateService(container.store, catalog=container.catalog),
        scans=scans,
        camera=camera,
        scanner=scanner,
        identity_photos=identity_photos,
        speech=speech,
        counter=container.counter,
        identity=identity,
        training=training,
        training_can=training_can,
        sync_subscribe=ui_sync.subscribe if ui_sync is not None else None,
        sync_wake=ui_sync.wake if ui_sync is not None else None,
        sync_refresh=ui_sync.refresh if ui_sync is not None else None,
        start_later=later.start,
        follow_receipt=FollowReceipt(container.receipts, lookup),
        audit=AuditLog(container.store),
        retention=RetentionService(
            container.store, container.documents, policy=settings.retention_policy()
        ),
        followup=FollowUpService(container.store, container.catalog, clock=utc_now),
        letters=LetterDesk(
            LetterService(
                container.store,
                container.catalog,
                container.dossiers,
                container.counter,
                training=training,
            ),
            printer,
            NationalDocuments(container.store, container.documents),
        ),
        screen=ScreenSettings(container.store),
        **_enrolment(container, settings, settings_file, server, training=training),
        site_kiosks=ui_sync.site_kiosks if ui_sync is not None else None,
        withdrawn_subscribe=withdrawal.subscribe if withdrawal is not None else None,
    )
    return services, container


def counter_printer(settings: Settings) -> CupsPrinter:
    """The counter's CUPS queue on its print server (``imprimante``, ``serveur_impression``)."""
    return CupsPrinter(settings.printer, server=settings.print_server)


def _enrolment(
    container: Container,
    settings: Settings,
    settings_file: Path | None,
    server: _ReferenceServer | None,
    *,
    training: bool,
) -> dict[str, Any]:
    """Enrolment, both sides: a kiosk with credentials (or in training) issues codes for new
    kiosks of its site; one without, and with a settings file to write, enrols itself."""
    from app.enrolment import enrolment_desk, kiosk_enrolment
    from app.sync_setup import SyncSettings
    from devices.qr.zbar import ZbarReader

    enrolled = bool(settings.api_client_id and settings.api_client_secret)
    found: dict[str, Any] = {"codes": ZbarReader(), "api_url": settings.api_url}
    if training or enrolled:
        found["enrolments"] = enrolment_desk(
            settings,
            container.counter,
            container.store,
            sync=lambda: SyncSettings.from_settings(
                settings, training_url=server.url() if server is not None else None
            ),
            closers=container.closers,
        )
    elif settings_file is not None:
        found["enrolment"] = kiosk_enrolment(settings, settings_file, container.counter)
    return found


def trust_anchors(assets: Path, *, training: bool) -> list[Path]:
    """What the trust store reads: the whole ``csca`` folder (certificates, master lists ``.ml``
    and CRLs ``.crl``, not only ``*.pem``), and the TEST CSCA in training mode only."""
    anchors = [p for p in [assets / "csca"] if p.is_dir()]
    if training:
        anchors.append(assets / "test-keys" / "csca.pem")
    return anchors


def _speech(volume: int) -> Speech:
    """Reading aloud at ``volume`` percent: Qt TextToSpeech on the speech service, connected
    at the first reading asked for, not at start (docs/accessibility.md; devices/speech/qt.py
    says why); silent when switched off or Qt's module is missing, the « Écouter » button then
    disabled with the reason."""
    from devices.speech.silent import SilentSpeech

    if volume == 0:
        return SilentSpeech()
    from devices.speech.qt import NO_MODULE, QtSpeech

    # Looked for, not loaded: loading it (and Qt Multimedia with it) waits for the first reading.
    if importlib.util.find_spec("PySide6.QtTextToSpeech") is None:  # PySide6 without add-ons
        log.warning("lecture à voix haute impossible : pas de module PySide6.QtTextToSpeech")
        return SilentSpeech(NO_MODULE)
    return QtSpeech(volume=volume / 100)


def _qt_camera(device: str | None) -> Camera:
    from devices.camera.qt import QtCamera

    return QtCamera(device)


def _tesseract() -> TextReader:
    from devices.ocr.tesseract import TesseractReader

    return TesseractReader()


def _glyphs() -> GlyphReader:
    from devices.ocr.ocrb import OcrbGlyphReader

    return OcrbGlyphReader()


def _identity_photos(camera: Camera, *, training: bool) -> IdentityPhotos:
    """The CAN and the MRZ by camera: Tesseract for the CAN, OCR-B's glyphs for the MRZ, and
    the counter's camera; in training mode, simulated cameras filming the training card's front
    (CAN 123456) and its MRZ. The readers and training's cameras are built at their first use
    (issue 18)."""
    reader = LazyTextReader(_tesseract)
    glyphs = LazyGlyphReader(_glyphs)
    if not training:
        return IdentityPhotos(reader, camera, camera, glyphs)
    return IdentityPhotos(
        reader,
        LazyCamera(partial(_training_card, "recto")),
        LazyCamera(partial(_training_card)),
        glyphs,
    )


def _training_card(side: str = "mrz") -> Camera:
    """A simulated camera filming the training card's front (``recto``) or its MRZ."""
    from devices.camera.simulated import SimulatedCamera
    from devices.cardsim.printed import card_front, mrz_page
    from devices.cardsim.profiles import PROFILES

    card = PROFILES["cnie"]
    if side != "recto":
        return SimulatedCamera([mrz_page(card.mrz())])
    holder = card.holder
    front = card_front(
        surname=holder.surname,
        given_names=holder.given_names,
        birth=holder.birth,
        document_number=holder.document_number,
        can=card.can,
    )
    return SimulatedCamera([front])


def _identity_reader(
    container: Container, reader_name: str | None, *, training: bool
) -> tuple[IdentityReader | None, str | None]:
    """The PC/SC reader, trusting the CSCAs in ``assets/csca`` (and, in training mode only, the
    TEST CSCA, whose private key is public) — plus, in training mode, a simulated CNIe on the
    virtual reader when pcscd offers one."""
    try:
        from devices.nfc.passive import TrustStore
        from devices.nfc.pcsc import PcscIdentityReader
    except ImportError:  # pyscard missing: manual and MRZ entry still work
        return None, None
    trust = TrustStore.from_paths(trust_anchors(assets_dir(), training=training))
    reader = PcscIdentityReader(trust, reader=reader_name, card_wait=2.0)
    training_can = None
    if training:
        from devices.cardsim.chip import SimulatedChip
        from devices.cardsim.profiles import PROFILES
        from devices.cardsim.vpcd import VIRTUAL_READER, VirtualCard, VpcdNotListening, slot_port

        # The reader the settings name if it is one of vpcd's slots, else its first one.
        port = slot_port(reader_name)
        virtual = reader_name if reader_name is not None and port is not None else VIRTUAL_READER
        card = VirtualCard(SimulatedChip(PROFILES["cnie"]), port=port)
        try:
            # Listing the readers also starts a socket-activated pcscd (Debian with systemd);
            # vpcd listens for the card once pcscd lists its reader.
            if virtual not in reader.readers():
                raise VpcdNotListening(virtual)
            card.start(connect_timeout=1.0)
        except (NoReader, VpcdNotListening, OSError):
            log.warning(
                "pas de lecteur virtuel (pcscd avec vsmartcard-vpcd) : pas de carte simulée ; "
                "la saisie manuelle et la bande MRZ restent possibles"
            )
        else:
            container.closers.append(card.stop)
            training_can = PROFILES["cnie"].can
            reader.reader_name = reader_name or virtual
    return reader, training_can


def build(
    settings: Settings, *, training: bool = False, credentials_file: Path | None = None
) -> Container:
    """Open the store (migrating it) and load the procedure catalogue.

    Raises:
        KioskWithdrawn: the kiosk was revoked (a StoreError: said in French, no traceback).
    """
    paths = settings.paths
    # A revoked kiosk finishes destroying its keys and stops here, before the store says only
    # that its key is missing.
    plan = plan_for(paths, credentials_file=credentials_file)
    refuse_if_withdrawn(plan)
    # The shipped démarches and those installed from signed bundles (kiosk/updates/).
    catalog = LiveCatalog(paths.demarches_dir, BundleFolder(paths.bundles_dir / DEMARCHES))
    # Stored documents prove a store existed: a database missing beside them is refused.
    store = open_store(
        paths.database,
        key_file=paths.db_key_file,
        evidence=[paths.documents_dir],
        url=paths.database_url,
        chain=paths.audit_chain,
    )
    # Plain documents (earlier versions) are re-stored encrypted, once; a no-op while document
    # encryption is switched off (kiosk/store/documents.py: ENCRYPT_DOCUMENTS) or the data
    # folder is read-only (reading only: nothing can be re-stored).
    documents = open_documents(store, paths)
    if not store.read_only:
        encrypt_plain_documents(documents, store)
    # The shipped tariffs and those the sync worker installs from signed bundles.
    tariffs = TariffFiles(default_tariffs_dir(), BundleFolder(paths.bundles_dir / TARIFS))
    dossiers = DossierService(store, catalog, tariffs=tariffs)
    counter = CounterSettings(store)
    receipts = ReceiptService(dossiers, counter, training=training)
    return Container(
        paths=paths,
        store=store,
        catalog=catalog,
        dossiers=dossiers,
        counter=counter,
        receipts=receipts,
        documents=documents,
        withdrawal=Withdrawal(plan, store=store),
    )


def open_documents(store: Store, paths: Paths) -> DocumentStore:
    """The supporting documents: files in the data folder, or, on a site's shared store, in
    that store (every counter reads them; docs/sites.md), sealed under the same key setting."""
    if store.site is not None:
        return SiteDocuments(store, paths.documents_dir, key_file=paths.documents_key_file)
    return DocumentStore(paths.documents_dir, key_file=paths.documents_key_file)


def _start_purge(container: Container, settings: Settings, scans: FolderSource) -> None:
    """The retention purge, and the sweep of the scanner's folder, on a thread of their own
    (docs/security.md)."""
    from app.housekeeping import start_purge_schedule

    schedule = start_purge_schedule(
        container.store,
        container.documents,
        policy=settings.retention_policy(),
        hours=settings.purge_hours,
        scans=scans,
    )
    if schedule is not None:
        container.closers.append(schedule.stop)


def _sync(
    container: Container, settings: Settings, server: _ReferenceServer | None
) -> _BackgroundSync | None:
    """The background sync (in training mode, against a reference server of its own), started
    later (:class:`_BackgroundSync`); None when sync is not configured (the kiosk then keeps
    every dossier queued, and says so on its badge)."""
    from app.sync_setup import SyncConfigError, SyncSettings

    if server is not None:
        # Training mode: its own server, with the demo credentials that server knows, known
        # once the server listens (the sync's start waits for it, not the home screen).
        return _BackgroundSync(
            container, lambda: SyncSettings.from_settings(settings, training_url=server.url())
        )
    try:
        checked = SyncSettings.from_settings(settings)  # said at start, not at the first send
    except SyncConfigError as exc:
        log.warning("synchronisation non configurée : %s", exc)
        return None
    return _BackgroundSync(container, lambda: checked)


class _BackgroundSync:
    """The sync worker's thread, started by the start-up's later work (:class:`_Later`), and
    what the UI holds of it from the start: ``subscribe`` (the badge), ``wake`` (send now) and
    ``refresh`` (pull the decisions now). Before the thread runs, ``wake`` and ``refresh`` do
    nothing: its first pass sends what is queued and pulls the decisions anyway."""

    def __init__(self, container: Container, settings: Callable[[], SyncSettings]) -> None:
        self._container = container
        self._settings = settings
        #: The supervisor's « Bornes du site », on a client of its own made at first use.
        self.site_kiosks = _LazySiteKiosks(container, settings)
        self._subscribers: list[Callable[[ConnectionBadge], None]] = []
        self._last: list[ConnectionBadge] = []
        self._thread: SyncThread | None = None
        self._closed = False
        self._lock = threading.Lock()
        container.closers.append(self.stop)

    def _listener(self, status: SyncStatus) -> None:  # sync thread
        badge = ConnectionBadge(
            configured=True,
            online=status.online,
            waiting=status.waiting,
            detail=status.circuit.label,
            decisions=status.decisions,
        )
        self._last[:] = [badge]
        for callback in list(self._subscribers):
            callback(badge)

    def subscribe(self, callback: Callable[[ConnectionBadge], None]) -> None:
        """``callback(badge)`` at each change of the connection or the queue (sync thread)."""
        self._subscribers.append(callback)
        if self._last:
            callback(self._last[0])

    def wake(self) -> None:
        """Send what is queued now (a dossier was just filed)."""
        thread = self._thread
        if thread is not None:
            thread.worker.wake()

    def refresh(self) -> None:
        """Pull the national decisions now (« Actualiser »)."""
        thread = self._thread
        if thread is not None:
            thread.worker.pull_now()

    def start(self) -> None:
        """Start the worker's thread, once (the later work's thread: in training mode it waits
        for the reference server to listen); nothing once the kiosk is closing."""
        from app.sync_setup import start_background_sync

        settings = self._settings()
        with self._lock:
            if self._closed or self._thread is not None:
                return
            self._thread = start_background_sync(self._container, settings, listener=self._listener)

    def stop(self) -> None:
        """Stop the thread if it runs (between two sends); it never starts after this."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            thread.stop()


class _LazySiteKiosks:
    """The site's kiosks (:class:`~kiosk.sync.fleet.SiteKiosksService`) built at the first
    fetch, on the tab's worker thread: its HTTP client is not loaded at start, and in training
    mode the reference server may still be starting then."""

    def __init__(self, container: Container, settings: Callable[[], SyncSettings]) -> None:
        def make() -> SiteKiosksService:
            from app.sync_setup import site_kiosks_service

            return site_kiosks_service(container, settings())

        self._service = Once(make)

    def view(self) -> SiteView:
        """See :class:`~kiosk.sync.fleet.SiteKiosksService`."""
        return self._service().view()

    def revoke(self, kiosk_id: str, *, by: AgentInfo | None) -> SiteKiosk:
        """See :class:`~kiosk.sync.fleet.SiteKiosksService`."""
        return self._service().revoke(kiosk_id, by=by)


@dataclass(frozen=True)
class _SyncLink:
    """What the screen holds of a sync running in another process (:func:`_link_sync`)."""

    subscribe: Callable[[Callable[[ConnectionBadge], None]], None]
    wake: Callable[[], None]
    refresh: Callable[[], None]
    site_kiosks: _LazySiteKiosks


class _Later:
    """Start-up work the home screen does not wait for, run once on a thread of its own when
    the window asks (:attr:`ui.services.UiServices.start_later`), in order; each step's failure
    is logged and the next one runs. Closing the kiosk skips what has not started yet."""

    def __init__(self, steps: list[Callable[[], None]]) -> None:
        self._steps = steps
        self._started = False
        self._closed = threading.Event()

    def start(self) -> None:
        """Run the steps on their thread (UI thread: returns at once); once."""
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._run, name="pn-plus-tard", daemon=True).start()

    def _run(self) -> None:  # its own thread
        for step in self._steps:
            if self._closed.is_set():
                return
            try:
                step()
            except Exception:  # the kiosk works without it (no sync, a slower first receipt)
                log.exception("démarrage différé : %s a échoué", getattr(step, "__name__", step))

    def close(self) -> None:
        """The kiosk is closing: the steps not started yet never will."""
        self._closed.set()


def _receipt_lookup(
    container: Container, settings: Settings, server: _ReferenceServer | None
) -> ReceiptApi | None:
    """The national service's receipt lookup for the home screen (None: not configured)."""
    from app.sync_setup import ReceiptLookup, SyncConfigError, SyncSettings

    if server is not None:  # training: its own server, known once it has started
        return ReceiptLookup(
            lambda: SyncSettings.from_settings(settings, training_url=server.url())
        )
    try:
        checked = SyncSettings.from_settings(settings)
    except SyncConfigError:
        return None  # said once already by the sync's start
    lookup = ReceiptLookup(lambda: checked)
    container.closers.append(lookup.close)
    return lookup


def _link_sync(container: Container, settings: Settings) -> _SyncLink | None:
    """What :class:`_BackgroundSync` gives the screen, for a sync running in another process
    (the packaged kiosk, docs/packaging.md): the badge read from what it saves, the doorbell to
    send now, the site's kiosks on a client of the screen's own; and a revocation the sync
    process carried out (its marker written, the keys gone) seen within a poll, so the screen
    stops at once rather than at its next start. None when sync is not configured."""
    from app.sync_link import PULL, WAKE, StatusWatch, doorbell_path, ring
    from app.sync_setup import SyncConfigError, SyncSettings
    from kiosk.sync.outbox import Outbox

    try:
        checked = SyncSettings.from_settings(settings)  # the sync service reads the same
    except SyncConfigError as exc:
        log.warning("synchronisation non configurée : %s", exc)
        return None
    watch = StatusWatch(
        Outbox(container.store, container.catalog, clock=utc_now), withdrawal=container.withdrawal
    )
    container.closers.append(watch.stop)
    bell = doorbell_path(container.paths.data_dir)

    def wake() -> None:  # UI thread: one datagram, never waits
        ring(bell, WAKE)

    def refresh() -> None:
        ring(bell, PULL)

    return _SyncLink(watch.subscribe, wake, refresh, _LazySiteKiosks(container, lambda: checked))


class _ReferenceServer:
    """Training mode's national service: ``kiosk national-sim`` in a process of its own (in a
    thread of the kiosk it would compete with the screens for the interpreter lock).

    Its port is chosen at once; its process starts with the start-up's later work, once the
    home screen is painted (issue 18: on one core its interpreter's start took the kiosk's
    time), or at the first request that needs it (a receipt looked up before)."""

    def __init__(self, database: Path) -> None:
        from sync.server.demo import free_port

        self.port = free_port()
        self._database = database
        self._process: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start its process, once (any thread); nothing once the kiosk is closing."""
        import sys

        with self._lock:
            if self._process is not None or self._closed:
                return
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "app",
                    "national-sim",
                    "--port",
                    str(self.port),
                    "--db",
                    str(self._database),
                    "--parent",
                    str(os.getpid()),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def url(self, timeout: float = 15.0) -> str:
        """Its address, once it accepts connections (or the timeout passed: sync retries);
        started first if it was not."""
        import socket
        import time

        self.start()
        process = self._process
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process is not None and process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop its process if it was started; it never starts after this."""
        with self._lock:
            self._closed = True
            process = self._process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _warm_up_receipts() -> None:
    """Render a sample receipt once (fonts parsed, code paths warm); nothing is kept."""
    from datetime import UTC, datetime

    from kiosk.receipt import Contact, ContactMode, Counter, ReceiptData, render_receipt

    render_receipt(
        ReceiptData(
            reference="PN-0000-0000",
            verification_code="AAAAAAAA",
            demarche_title="Échantillon",
            filed_at=datetime.now(UTC),
            filed=(("Démarche", "Échantillon — é è ç œ « »"),),
            missing_documents=("Échantillon",),
            contact=Contact(mode=ContactMode.GUICHET),
            counter=Counter(name="Point numérique", address=(), phone="", hours=""),
            training=True,
        )
    )
