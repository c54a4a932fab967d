"""``kiosk courrier`` and ``kiosk document-national`` in a real process on a real database, with
a stand-in ``lp`` on the PATH for the printer (one that prints to a file, one that refuses)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.store import Store, open_store
from kiosk.store.documents import DocumentStore
from kiosk.store.models import ContactAttempt, Dossier, Usager
from tests.cups import CupsServer, PdfQueue
from tests.followup.letters_support import DEADLINE, REASONS, decide, filed_dossier, set_counter
from tests.followup.test_national_documents import CPI, announce

ROOT = Path(__file__).resolve().parents[2]


def kiosk(
    tmp_path: Path, *args: str, path: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """``kiosk ARGS`` on the test's data folder; ``settings``: more ``PN_KIOSK_*`` variables."""
    env = {**os.environ, "PN_KIOSK_DATA_DIR": str(tmp_path / "data"), **settings}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextmanager
def kiosk_store(tmp_path: Path, catalog: Catalog) -> Iterator[tuple[Store, DossierService]]:
    """The store the command will open, with its counter set; closed before the command runs."""
    store = open_store(tmp_path / "data" / "kiosk.sqlite3")
    try:
        set_counter(store)
        yield store, DossierService(store, catalog)
    finally:
        store.close()


def fake_lp(tmp_path: Path, *, fails: bool = False) -> str:
    """A folder holding an ``lp`` that copies what it prints to ``printed.pdf`` (or refuses, as
    CUPS does for a queue that does not exist); to put alone on the PATH."""
    folder = tmp_path / ("bad-bin" if fails else "bin")
    folder.mkdir()
    script = folder / "lp"
    if fails:
        script.write_text(
            "#!/bin/sh\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n"
        )
    else:
        cat = shutil.which("cat")  # the PATH holds this folder alone
        script.write_text(f'#!/bin/sh\n{cat} > "{tmp_path / "printed.pdf"}"\necho "request id"\n')
    script.chmod(0o755)
    return str(folder)


def printed_letters(tmp_path: Path) -> int:
    with kiosk_store_read(tmp_path) as store, store.read() as s:
        return len(s.scalars(select(ContactAttempt)).all())


@contextmanager
def kiosk_store_read(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "data" / "kiosk.sqlite3")
    try:
        yield store
    finally:
        store.close()


def test_one_letter_to_a_file_then_the_day_finds_nothing_left(
    tmp_path: Path, catalog: Catalog
) -> None:
    with kiosk_store(tmp_path, catalog) as (store, service):
        ref = filed_dossier(service)
        decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS, deadline=DEADLINE)
    out = tmp_path / "lettre.pdf"

    done = kiosk(tmp_path, "courrier", ref.lower(), "--out", str(out))

    assert done.returncode == 0, done.stderr
    assert f"Lettre du dossier {ref} écrite : {out}" in done.stdout
    text = PdfReader(out).pages[0].extract_text()
    assert ref in text and "31 décembre 2026" in text
    assert printed_letters(tmp_path) == 1
    again = kiosk(tmp_path, "--json", "courrier", "--jour", "--out", str(tmp_path / "day.pdf"))
    assert json.loads(again.stdout) == {"lettres": [], "non_faites": []}
    assert not (tmp_path / "day.pdf").exists()


def test_the_days_letters_go_to_the_printer_once(tmp_path: Path, catalog: Catalog) -> None:
    with kiosk_store(tmp_path, catalog) as (store, service):
        refs = [filed_dossier(service, number=f"N{i}") for i in range(2)]
        for ref in refs:
            decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS)
        filed_dossier(service, mode="guichet", number="N9")

    done = kiosk(tmp_path, "courrier", "--jour", path=fake_lp(tmp_path))

    assert done.returncode == 0, done.stderr
    assert f"2 lettres envoyées à l'imprimante (imprimante par défaut) : {', '.join(refs)}." in (
        done.stdout
    )
    reader = PdfReader(tmp_path / "printed.pdf")
    assert [ref in page.extract_text() for page in reader.pages for ref in refs] == [
        True,
        False,
        False,
        True,
    ]
    assert printed_letters(tmp_path) == 2
    nothing = kiosk(tmp_path, "courrier", "--jour", path=fake_lp(tmp_path, fails=True))
    assert nothing.returncode == 0 and "Aucune lettre à imprimer" in nothing.stdout


def test_a_letter_goes_through_the_counters_cups_server_and_a_stopped_queue_records_nothing(
    tmp_path: Path, catalog: Catalog, cups_server: CupsServer, pdf_queue: PdfQueue
) -> None:
    with kiosk_store(tmp_path, catalog) as (store, service):
        ref = filed_dossier(service)
        decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS, deadline=DEADLINE)
    printer = {"PN_KIOSK_PRINTER": pdf_queue.name, "PN_KIOSK_PRINT_SERVER": cups_server.address}
    cups_server.run("cupsdisable", pdf_queue.name)

    stopped = kiosk(tmp_path, "courrier", ref, **printer)

    assert stopped.returncode == 1
    assert stopped.stderr.startswith(
        f"Erreur : L'imprimante « {pdf_queue.name} » est arrêtée (paused) :"
    )
    assert "Aucune lettre n'est notée comme envoyée : relancez la commande." in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert printed_letters(tmp_path) == 0 and cups_server.pending(pdf_queue) == []

    cups_server.run("cupsenable", pdf_queue.name)
    done = kiosk(tmp_path, "courrier", ref, **printer)

    assert done.returncode == 0, done.stderr
    assert f"Lettre du dossier {ref} envoyée à l'imprimante ({pdf_queue.name})." in done.stdout
    [printed] = cups_server.wait_printed(pdf_queue)
    assert ref in PdfReader(printed).pages[0].extract_text()
    assert printed_letters(tmp_path) == 1


def test_printer_missing_or_refusing_records_nothing(tmp_path: Path, catalog: Catalog) -> None:
    with kiosk_store(tmp_path, catalog) as (store, service):
        ref = filed_dossier(service)
        decide(service, store, ref, DossierState.REFUSE, reason="Motif")
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    missing = kiosk(tmp_path, "courrier", ref, path=str(empty))
    refused = kiosk(tmp_path, "courrier", ref, path=fake_lp(tmp_path, fails=True))

    assert missing.returncode == refused.returncode == 1
    assert missing.stderr.startswith(
        "Erreur : Aucun service d'impression (CUPS) n'est installé sur ce poste."
    )
    assert "The printer or class does not exist." in refused.stderr
    assert "Aucune lettre n'est notée comme envoyée" in refused.stderr
    assert "Traceback" not in missing.stderr + refused.stderr
    assert printed_letters(tmp_path) == 0


def test_unknown_reference_no_address_and_nothing_to_say(tmp_path: Path, catalog: Catalog) -> None:
    with kiosk_store(tmp_path, catalog) as (store, service):
        undecided = filed_dossier(service)
        homeless = filed_dossier(service, number="N2")
        decide(service, store, homeless, DossierState.A_COMPLETER, reasons=REASONS)
        with store.write() as s:  # no address, as a dossier of an earlier release can be
            dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == homeless))
            usager = s.get(Usager, dossier_id)
            assert usager is not None
            usager.adresse = None
    out = str(tmp_path / "x.pdf")

    unknown = kiosk(tmp_path, "courrier", "PN-ZZZZ-ZZZZ", "--out", out)
    nothing = kiosk(tmp_path, "courrier", undecided, "--out", out)
    no_address = kiosk(tmp_path, "courrier", "--jour", "--out", out)

    assert unknown.returncode == nothing.returncode == no_address.returncode == 1
    assert unknown.stderr.strip() == "Erreur : Aucun dossier « PN-ZZZZ-ZZZZ » sur cette borne."
    assert "n'a reçu aucune réponse du service national" in nothing.stderr
    assert f"Le dossier {homeless} n'a pas d'adresse postale" in no_address.stderr
    assert not Path(out).exists()
    assert printed_letters(tmp_path) == 0


def test_a_national_document_is_written_decrypted_once_received(
    tmp_path: Path, catalog: Catalog
) -> None:
    with kiosk_store(tmp_path, catalog) as (store, service):
        waiting = filed_dossier(service)
        decide(service, store, waiting, DossierState.ACCEPTE)
        announce(store, waiting)
        ready = filed_dossier(service, number="N2")
        decide(service, store, ready, DossierState.ACCEPTE)
        announce(store, ready, files=DocumentStore(tmp_path / "data" / "documents"))
    out = tmp_path / "cpi.pdf"

    not_yet = kiosk(tmp_path, "document-national", waiting, "--out", str(out))
    done = kiosk(tmp_path, "document-national", ready, "--out", str(out))

    assert not_yet.returncode == 1 and "n'est pas encore arrivé du service national" in (
        not_yet.stderr
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == CPI
    still = kiosk(tmp_path, "document-national", waiting, "--liste")
    listed = kiosk(tmp_path, "document-national", ready, "--liste")
    assert "Certificat provisoire d'immatriculation (pas encore reçu" in still.stdout
    assert "Certificat provisoire d'immatriculation (imprimé)" in listed.stdout
