"""What the dossier use cases share: the store, the catalogue, the clock, and loading a dossier.

Each use-case class (:mod:`~kiosk.dossiers.answers`, :mod:`~kiosk.dossiers.lifecycle`,
:mod:`~kiosk.dossiers.queries`) builds on :class:`DossierBase`; every public method is one unit
of work (one transaction). Methods run on whatever thread calls them (the UI calls them from its
worker thread, never from the UI thread); they share nothing but the :class:`~kiosk.store.Store`,
whose write transactions queue behind ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.demarches import Catalog, Demarche, JSONValue
from kiosk.dossiers.errors import DossierNotFound, NotEditable, UnknownDemarche
from kiosk.dossiers.reference import InvalidReference, parse_reference
from kiosk.dossiers.search import Listed
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.views import DossierSummary
from kiosk.fees import TariffBook, default_tariffs_dir
from kiosk.fees.installed import TariffFiles
from kiosk.messages import Message
from kiosk.store.engine import Store
from kiosk.store.models import Answer, Dossier, Usager, Vehicule
from kiosk.store.portable import param, table_of
from kiosk.store.prepared import Prepared, Unit

Clock = Callable[[], datetime]

_ANSWER = table_of(Answer)
_ANSWERS = Prepared(
    lambda _: select(_ANSWER.c.path, _ANSWER.c.value).where(
        _ANSWER.c.dossier_id == param(_ANSWER.c.dossier_id)
    )
)


@functools.lru_cache(maxsize=64)
def _parsed(reference: str) -> str:
    # The same reference comes with every answer typed in a dossier: read once, not at each
    # autosave (~15 µs of it, issue 18). A wrong one raises every time (errors are not kept).
    return parse_reference(reference)


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def not_editable(reference: str, state: DossierState) -> NotEditable:
    """Why a dossier in ``state`` can no longer change, as the agent and the person read it."""
    return NotEditable(
        Message(
            "Le dossier {reference} est « {state} » : ses réponses ne peuvent plus être modifiées.",
            reference=reference,
            state=state.label,
        )
    )


class DossierBase:
    """The store, the catalogue and the clock, and the loading every use case needs."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        *,
        clock: Clock = utc_now,
        tariffs: TariffBook | TariffFiles | None = None,
    ) -> None:
        """``tariffs``: the loaded tariff files, or the folders they are read from (the
        shipped ones when not given); filing keeps the dossier's estimate, which needs them."""
        self._store = store
        self._catalog = catalog
        self._now = clock
        self._tariff_files = (
            tariffs if isinstance(tariffs, TariffFiles) else TariffFiles(default_tariffs_dir())
        )
        self._tariff_book = tariffs if isinstance(tariffs, TariffBook) else None

    @property
    def _tariffs(self) -> TariffBook:
        if self._tariff_book is not None:
            return self._tariff_book
        # Read at the first estimate, not at start (the window paints before it is needed),
        # and again when an update was installed (kiosk/fees/installed.py).
        return self._tariff_files.book()

    def _parse_ref(self, reference: str) -> str:
        try:
            return _parsed(reference)
        except InvalidReference as exc:
            raise DossierNotFound(reference.strip()) from exc

    def _load(self, s: Session, ref: str, *, lock: bool = False) -> Dossier:
        """The dossier ``ref``; ``lock``: its row held until the commit, what a narrow unit of
        work (``Store.write(narrow=True)``) takes first on a site store, where two counters'
        narrow writes run together: two on one dossier take turns."""
        query = select(Dossier).where(Dossier.reference == ref)
        dossier = s.scalars(query.with_for_update() if lock else query).one_or_none()
        if dossier is None:
            raise DossierNotFound(ref)
        return dossier

    def _load_editable(self, s: Session, ref: str, *, lock: bool = False) -> Dossier:
        dossier = self._load(s, ref, lock=lock)
        state = DossierState(dossier.state)
        if not state.editable:
            raise not_editable(ref, state)
        return dossier

    def _demarche(self, demarche_id: str, version: int) -> Demarche:
        try:
            return self._catalog.get(demarche_id, version)
        except KeyError:
            raise UnknownDemarche(
                Message(
                    "La définition de la démarche « {demarche} » version {version}, avec laquelle"
                    " ce dossier a été commencé, n'est pas installée sur cette borne.",
                    demarche=demarche_id,
                    version=version,
                )
            ) from None

    @staticmethod
    def _answers(s: Unit, dossier_id: str) -> dict[str, JSONValue]:
        return dict(_ANSWERS.all(s, dossier_id=dossier_id))

    def _summary_of(self, s: Session, dossier: Dossier) -> DossierSummary:
        usager = s.get(Usager, dossier.id)
        vehicule = s.get(Vehicule, dossier.id)
        return self._summary(
            dossier,
            display_name(usager.nom, usager.prenoms) if usager else None,
            vehicule.immatriculation if vehicule else None,
        )

    def _summary(
        self, dossier: Dossier | Listed, usager: str | None, immatriculation: str | None
    ) -> DossierSummary:
        try:
            title = self._catalog.get(dossier.demarche_id, dossier.demarche_version).title
        except KeyError:
            title = dossier.demarche_id
        return DossierSummary(
            id=dossier.id,
            reference=dossier.reference,
            demarche_id=dossier.demarche_id,
            demarche_version=dossier.demarche_version,
            demarche_title=title,
            state=DossierState(dossier.state),
            created_at=dossier.created_at,
            updated_at=dossier.updated_at,
            usager=usager,
            immatriculation=immatriculation,
        )


def display_name(nom: str | None, prenoms: str | None) -> str | None:
    """« DUPONT Marie », as lists and receipts show a person."""
    if not nom and not prenoms:
        return None
    return " ".join(p for p in ((nom or "").upper(), prenoms or "") if p)
