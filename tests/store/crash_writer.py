"""A writer process for the crash test: autosaves answers and prints an ACK after each commit.

Run as ``python -m tests.store.crash_writer DB DEMARCHE FIELD START``. Each line it prints was
written only after the service call returned, i.e. after the transaction committed: the parent
kills this process with SIGKILL at a random moment and then checks that every acknowledged save
is in the database.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk.demarches import load_catalog
from kiosk.dossiers.service import DossierService
from kiosk.settings.paths import assets_dir
from kiosk.store import open_store


def main() -> None:
    db, demarche_id, field, start = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = open_store(Path(db))
    service = DossierService(store, load_catalog(assets_dir() / "demarches"))
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    reference = ""
    counter = start
    while True:
        if counter % 7 == 0 or not reference:
            reference = service.create(demarche_id).reference
            out.write(f"NEW {reference}\n")
        service.answer(reference, field, f"valeur {counter:09d}")
        out.write(f"ACK {reference} {counter}\n")
        out.flush()
        counter += 1


if __name__ == "__main__":
    main()
