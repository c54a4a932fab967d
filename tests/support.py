"""Test helpers: answer a dossier the way an agent would until nothing mandatory is missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.demarches import Demarche, Field, FieldError, FieldType, group_item_count, parse_value
from kiosk.dossiers.mandate import MandateService
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.views import DossierSummary
from kiosk.store import Store

SAMPLES: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: ("MARTIN", "7"),  # "7": a short text, e.g. the fiscal horsepower
    FieldType.LONG_TEXT: ("Le véhicule a été acheté en Suisse et n'a jamais été immatriculé.",),
    FieldType.ADDRESS: ("12 rue de la Paix | 56000 | Vannes",),
    FieldType.POSTCODE: ("56000",),
    FieldType.PHONE: ("06 12 34 56 78",),
    FieldType.EMAIL: ("",),
    FieldType.PLATE: ("AB-123-CD",),
    FieldType.PLATE_SIV: ("AB-123-CD",),
    FieldType.PLATE_FNI: ("1234 AB 56",),
    FieldType.VIN: ("VF1RFB00X56789012",),
    FieldType.IDENTITY_DOCUMENT: ("cni | X4RTBPFW4",),
    FieldType.EPHOTO: ("ABCD1234EFGH5678JKLM90",),
    FieldType.BOOLEAN: ("non", "oui"),
}


def candidates(field: Field) -> list[str]:
    """Plausible raw inputs for ``field``, most typical first."""
    if field.type is FieldType.CHOICE:
        ids = list(field.choice_ids())
        # Prefer the counter as contact: no phone or address question follows.
        return sorted(ids, key=lambda c: c != "guichet")
    if field.type is FieldType.DOCUMENT:
        return [k.id for k in field.accepted_kinds]
    if field.type is FieldType.DATE:
        today = datetime.now(UTC).astimezone().date()  # the kiosk's local day, as validators use
        return [
            (today - timedelta(days=10)).isoformat(),
            "1980-05-17",
            today.isoformat(),
            (today + timedelta(days=30)).isoformat(),
        ]
    return list(SAMPLES[field.type])


def fill(service: DossierService, reference: str, demarche: Demarche, rounds: int = 60) -> None:
    """Answer every missing mandatory question with a valid value (new ones may appear)."""
    for _ in range(rounds):
        view = service.show(reference)
        if not view.missing:
            return
        issue = view.missing[0]
        path = issue.path
        try:
            field = demarche.field_for_path(path)
        except KeyError:
            # A group short of items: start the next item with its first field.
            group = demarche.group(path)
            index = group_item_count(path, view.answers)
            field = group.fields[0]
            path = f"{path}[{index}].{field.id}"
        for raw in candidates(field):
            try:
                parse_value(field, raw)
            except FieldError:
                continue
            service.answer(reference, path, raw)
            break
        else:
            raise AssertionError(f"no valid sample for {path} ({field.type})")
    raise AssertionError(f"{reference} still incomplete: {service.show(reference).missing}")


def child_processes(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if ppid == pid:
            found.append((int(entry.name), command))
    return found


def process_alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def sign_mandate(
    store: Store,
    reference: str,
    *,
    agent: str = "Agent de test",
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Have the person sign the dossier's mandate, as the consent screen records it."""
    mandates = MandateService(store, clock=clock)
    text = mandates.text_for(
        reference=reference, usager="", agent=agent, guichet="Point numérique", demarche="Test"
    )
    mandates.sign(reference, text, b"\x89PNG signature")


def file_dossier(service: DossierService, reference: str) -> DossierSummary:
    """File a complete dossier at the counter: the mandate signed, then the filing use case."""
    # The mandate goes to the same store as the service's (a test helper may look inside).
    sign_mandate(service._store, reference, clock=service._now)
    return service.file(reference)


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the time forward (``minutes=2``, ``days=200``…)."""
        self.now += timedelta(**delta)
