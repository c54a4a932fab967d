"""What encryption at rest costs: the same autosave with and without SQLCipher, same disk, same run.

Prints: autosave of one answer p50/p95 on a plain store and on an encrypted one, each holding the
same number of dossiers (bulk-written as in ``bench/store_bench.py``), and the ratio (target
≤ 1.5×); opening the encrypted store; storing and reading back a 2 MB scan (AES-GCM) p95.

    uv run python -m bench.crypto_bench [--dossiers 20000] [--samples 1000] [--dir /tmp/pn-crypto]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import percentile, report
from bench.store_bench import _autosave_field, populate
from kiosk.demarches import Catalog, load_catalog
from kiosk.dossiers.service import DossierService
from kiosk.settings.paths import assets_dir
from kiosk.store import open_store
from kiosk.store.documents import DocumentStore


def autosaves(
    directory: Path, catalog: Catalog, *, encrypted: bool, args: argparse.Namespace
) -> list[float]:
    """Autosave timings on a store of ``args.dossiers`` dossiers, plain or encrypted."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    store = open_store(directory / "kiosk.sqlite3", encrypted=encrypted)
    try:
        populate(store, catalog, args.dossiers, random.Random(2026))
        service = DossierService(store, catalog)
        demarche = catalog.all()[0]
        field = _autosave_field(demarche)
        refs = [service.create(demarche.id).reference for _ in range(50)]
        for i in range(50):  # warm-up: page cache, statement cache
            service.answer(refs[i], field, f"chauffe {i}")
        samples = []
        for i in range(args.samples):
            t = time.perf_counter()
            service.answer(refs[i % len(refs)], field, f"réponse {i}")
            samples.append(time.perf_counter() - t)
        return samples
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="pn-crypto-bench-"))
    catalog = load_catalog(assets_dir() / "demarches")
    print(f"# {args.dossiers} dossiers par base, {args.samples} sauvegardes, dans {root}")

    plain = autosaves(root / "plain", catalog, encrypted=False, args=args)
    sealed = autosaves(root / "sqlcipher", catalog, encrypted=True, args=args)
    plain95, sealed95 = percentile(plain, 0.95) * 1e3, percentile(sealed, 0.95) * 1e3
    report("autosave SQLite en clair p50", percentile(plain, 0.5) * 1e3, "ms", "—")
    report("autosave SQLite en clair p95", plain95, "ms", "—")
    report("autosave SQLCipher p50", percentile(sealed, 0.5) * 1e3, "ms", "—")
    report(
        "autosave SQLCipher p95", sealed95, "ms", "≤ 1,5× en clair", f"{sealed95 / plain95:.2f}×"
    )

    opens = []
    for _ in range(5):
        t = time.perf_counter()
        open_store(root / "sqlcipher" / "kiosk.sqlite3").close()
        opens.append(time.perf_counter() - t)
    report("ouverture de la base chiffrée (médiane)", percentile(opens, 0.5) * 1e3, "ms", "—")

    files = DocumentStore(root / "documents")
    writes, reads = [], []
    for _ in range(20):
        scan = os.urandom(2 * 1024 * 1024)
        t = time.perf_counter()
        stored = files.store_bytes(scan, "application/pdf")
        writes.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert files.read(stored.path) == scan
        reads.append(time.perf_counter() - t)
    report("numérisation 2 Mo chiffrée et écrite p95", percentile(writes, 0.95) * 1e3, "ms", "—")
    report("numérisation 2 Mo lue et déchiffrée p95", percentile(reads, 0.95) * 1e3, "ms", "—")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
