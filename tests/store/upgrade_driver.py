"""Fills a data folder through the code of an EARLIER revision, for the upgrade fixtures.

Run by ``tests/store/make_upgrade_fixtures.py``, never imported by the tests: it executes inside a
git worktree of an old commit, with that commit's ``app``, ``kiosk`` and ``tests.support`` first
on ``sys.path`` (``python upgrade_driver.py OLD_TREE DATA_DIR WORK_DIR [NATIONAL_URL]``). It
creates dossiers the way that revision could — its command line (``app.cli.main``) where the
command line could do it, its services where only the screens could (a document for one
co-heir, a mandate signed on the tablet) — and prints a JSON manifest of what it made, as that
revision saw it (``dossier show --json``), with the SHA-256 of every document's content.

Only the standard library is imported at module level: everything else is the old revision's,
loaded by name (typed ``Any``: its API is not today's).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

AGENT = ("agent.upgrade", "Agent de la mise à jour", "4826")


def main() -> int:
    """Fill the data folder and print the manifest (JSON) on stdout."""
    old_tree, data_dir, work_dir = (Path(a).resolve() for a in sys.argv[1:4])
    national_url = sys.argv[4] if len(sys.argv) > 4 else None
    # The old revision first; this file's own folder (today's tests/store) out of the way.
    sys.path[:] = [str(old_tree), *(p for p in sys.path[1:] if p != str(old_tree))]
    kiosk = importlib.import_module("kiosk")
    if not Path(str(kiosk.__file__)).resolve().is_relative_to(old_tree):
        raise SystemExit(f"kiosk imported from {kiosk.__file__}, not from {old_tree}")
    old = OldKiosk(old_tree, data_dir, work_dir)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the old code may print; only the manifest goes out
        manifest = old.fill(national_url)
    sys.stderr.write(out.getvalue())
    print(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
    return 0


def pdf(title: str) -> bytes:
    """A small, well-formed one-page PDF whose content names ``title`` (distinct bytes each)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return body


def png(shade: int) -> bytes:
    """A 4×4 grey PNG (a different grey, different bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    raw = b"".join(b"\x00" + bytes([shade]) * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class OldKiosk:
    """The old revision's command line and services, on one data folder."""

    def __init__(self, tree: Path, data_dir: Path, work_dir: Path) -> None:
        self.tree = tree
        self.data_dir = data_dir
        self.work = work_dir
        self.work.mkdir(parents=True, exist_ok=True)
        self.cli_source = (tree / "app" / "cli.py").read_text(encoding="utf-8")
        self.documents: dict[str, list[dict[str, Any]]] = {}
        self.notes: list[str] = []

    # ------------------------------------------------------------------ the command line

    def cli(self, *args: str, stdin: str = "") -> Any:
        """Run ``kiosk --data-dir D --json ARGS`` in this process; its JSON answer."""
        cli = importlib.import_module("app.cli")
        out = io.StringIO()
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out):
                code = cli.main(["--data-dir", str(self.data_dir), "--json", *args])
        finally:
            sys.stdin = old_stdin
        if code != 0:
            raise RuntimeError(f"kiosk {' '.join(args)} → {code}: {out.getvalue()}")
        text = out.getvalue().strip()
        return json.loads(text) if text.startswith(("{", "[")) else text

    def has_command(self, name: str) -> bool:
        """Whether this revision's command line has the ``dossier NAME`` command."""
        return f'"{name}"' in self.cli_source

    # ------------------------------------------------------------------ the services

    @contextlib.contextmanager
    def services(self) -> Any:
        """This revision's store (opened as its kiosk opens it), catalogue and dossier service."""
        store_mod = importlib.import_module("kiosk.store")
        demarches = importlib.import_module("kiosk.demarches")
        service_mod = importlib.import_module("kiosk.dossiers.service")
        store = store_mod.open_store(self.data_dir / "kiosk.sqlite3")
        try:
            catalog = demarches.load_catalog(self.tree / "assets" / "demarches")
            yield store, catalog, service_mod.DossierService(store, catalog)
        finally:
            store.close()

    def fill_complete(self, reference: str, demarche_id: str) -> None:
        """Answer every mandatory question with this revision's own test helper."""
        support = importlib.import_module("tests.support")
        with self.services() as (_store, catalog, service):
            demarche = catalog.get(demarche_id, 1)  # every dossier made here is of version 1
            support.fill(service, reference, demarche)

    def attach(self, reference: str, kind: str, name: str, data: bytes, item: str | None) -> None:
        """Attach a document: the command line for a dossier's own, the documents screen's
        service for a group item's (the command line could not name the item)."""
        source = self.work / name
        source.write_bytes(data)
        if item is None:
            self.cli("dossier", "piece", reference, kind, str(source))
        else:
            self._attach_for_item(reference, kind, data, name, item)
        self.documents.setdefault(reference, []).append(
            {
                "type": kind,
                "pour": item,
                "fichier": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "taille": len(data),
            }
        )

    def _attach_for_item(
        self, reference: str, kind: str, data: bytes, name: str, item: str
    ) -> None:
        mime = "application/pdf" if name.endswith(".pdf") else "image/png"
        try:  # the documents of the store itself (since the store was gathered by capability)
            docs = importlib.import_module("kiosk.store.documents")
            attachments_mod = importlib.import_module("kiosk.dossiers.attachments")
        except ModuleNotFoundError:
            docs = importlib.import_module("kiosk.documents")
            attachments_mod = None
        with self.services() as (store, catalog, service):
            if attachments_mod is not None:
                files = docs.DocumentStore(self.data_dir / "documents")
                attachments = attachments_mod.Attachments(store, catalog, files)
            else:
                files = docs.DocumentStore(self.data_dir / "documents")
                attachments = docs.Attachments(service, files, store)
            attachments.attach(reference, kind, data, mime, item_path=item)

    def sign_mandate(self, reference: str) -> None:
        """The person's signature: on paper through the command line where it has the command,
        else on the tablet (the mandate service, as the consent screen called it)."""
        signature = png(40)
        if self.has_command("mandat"):
            source = self.work / "signature.png"
            source.write_bytes(signature)
            self.cli("dossier", "mandat", reference, "--signature", str(source))
            return
        mandate = importlib.import_module("kiosk.dossiers.mandate")
        with self.services() as (store, _catalog, _service):
            service = mandate.MandateService(store)
            text = service.text_for(
                reference=reference,
                usager="",
                agent=AGENT[1],
                guichet="Point numérique",
                demarche="Mise à jour",
            )
            service.sign(reference, text, signature)

    def queue(self, reference: str) -> None:
        """Sign the mandate, check the answers and put the dossier in the sending queue."""
        self.sign_mandate(reference)
        self.cli("dossier", "validate", reference)
        self.cli("dossier", "submit", reference)

    def outbox_rows(self) -> list[dict[str, Any]]:
        """The outbox as this revision stored it (empty before the outbox existed)."""
        sqlalchemy = importlib.import_module("sqlalchemy")
        with self.services() as (store, _catalog, _service), store.read() as s:
            tables = set(sqlalchemy.inspect(s.connection()).get_table_names())
            if "outbox" not in tables:
                return []
            rows = s.execute(
                sqlalchemy.text(
                    "SELECT d.reference, o.seq, o.idempotency_key, o.state FROM outbox o"
                    " JOIN dossier d ON d.id = o.dossier_id ORDER BY d.reference, o.seq"
                )
            ).all()
        return [{"reference": r[0], "seq": r[1], "cle": r[2], "etat": r[3]} for r in rows]

    def schema_revision(self) -> str:
        """The Alembic revision this revision's store wrote."""
        sqlalchemy = importlib.import_module("sqlalchemy")
        with self.services() as (store, _catalog, _service), store.read() as s:
            row = s.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).one()
        return str(row[0])

    # ------------------------------------------------------------------ the fixture

    def new(self, demarche: str) -> str:
        """Start a dossier of ``demarche``; its reference."""
        return str(self.cli("dossier", "new", demarche)["reference"])

    def answer(self, reference: str, **answers: str) -> None:
        """Answer through the command line, one question at a time (``__`` in a name is a
        group item's path: ``coheritiers__0__coheritier_nom``)."""
        for field, value in answers.items():
            path = field
            if "__" in field:
                group, index, sub = field.split("__")
                path = f"{group}[{index}].{sub}"
            self.cli("dossier", "answer", reference, path, value)

    def succession_with_heirs(self) -> str:
        """A succession kept by the person, with two co-heirs: one co-holder, one who gives up."""
        ref = self.new("succession")
        self.answer(
            ref,
            defunt_nom="DURAND",
            defunt_prenoms="Paul Émile",
            vente_sous_3_mois="non",
            autres_heritiers="oui",
            coheritiers__0__coheritier_nom="DURAND",
            coheritiers__0__coheritier_prenoms="Claire",
            coheritiers__0__coheritier_role="cotitulaire",
            coheritiers__1__coheritier_nom="LEROY",
            coheritiers__1__coheritier_prenoms="Anne-Sophie",
            coheritiers__1__coheritier_role="desistement",
        )
        return ref

    def fill(self, national_url: str | None) -> dict[str, Any]:
        """Make the dossiers and return the manifest."""
        agent = self.cli(
            "agent", "add", AGENT[0], "--nom", AGENT[1], "--pin-stdin", stdin=AGENT[2] + "\n"
        )
        shared = pdf("Carte grise barree")  # the same scan in two dossiers: one file

        draft = self.new("changement_titulaire")
        self.answer(
            draft,
            nom="MARTIN",
            prenoms="Jean-Luc",
            format_immatriculation="siv",
            immatriculation_siv="ab-123-cd",
        )
        self.attach(draft, "ancienne_carte_grise", "carte-grise.pdf", shared, None)

        heirs = self.succession_with_heirs()
        self.attach(heirs, "carte_grise_defunt", "carte-grise-defunt.pdf", shared, None)
        self.attach(heirs, "identite_cotitulaire", "cni-claire.png", png(90), "coheritiers[0]")
        self.attach(
            heirs, "desistement", "desistement-anne.pdf", pdf("Desistement"), "coheritiers[1]"
        )

        dropped = self.new("permis_perte")
        self.answer(dropped, nom="NGUYEN", prenoms="Thi")
        self.cli("dossier", "abandon", dropped, "--reason", "ouvert par erreur")

        filed = None
        if national_url is not None:  # filed and acknowledged before the others are queued
            filed = self.new("changement_adresse")
            self.fill_complete(filed, "changement_adresse")
            self.attach(filed, "justificatif_domicile", "facture.pdf", pdf("Facture EDF"), None)
            self.queue(filed)
            self.cli("sync", "--once", "--url", national_url)

        queued = self.succession_with_heirs()
        self.fill_complete(queued, "succession")
        self.attach(queued, "carte_grise_defunt", "cg-defunt-2.pdf", pdf("CG 2"), None)
        self.attach(queued, "identite_cotitulaire", "cni-claire-2.png", png(120), "coheritiers[0]")
        self.attach(
            queued, "desistement", "desistement-2.pdf", pdf("Desistement 2"), "coheritiers[1]"
        )
        self.queue(queued)

        queued_plain = self.new("permis_renouvellement")
        self.fill_complete(queued_plain, "permis_renouvellement")
        self.queue(queued_plain)

        refs = [draft, heirs, dropped, *([filed] if filed else []), queued, queued_plain]
        return {
            "revision_schema": self.schema_revision(),
            "dossier_donnees": str(self.data_dir),
            "agent": {"identifiant": agent["identifiant"], "nom": agent["nom"], "pin": AGENT[2]},
            "en_file": [queued, queued_plain],
            "transmis": [filed] if filed else [],
            "file_d_envoi": self.outbox_rows(),
            "dossiers": [
                {
                    "vu": self.cli("dossier", "show", ref),
                    "documents": self.documents.get(ref, []),
                }
                for ref in refs
            ],
        }


if __name__ == "__main__":
    sys.exit(main())
