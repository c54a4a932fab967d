"""The worklist's figures, for ``bench/store_bench.py``: 5,000 dossiers to follow among the
store's 100,000 (sent back « à compléter » with typed reasons and a deadline, waiting for
payment, accepted or refused and not yet told; a third with attempts already made), then the
worklist as the screen reads it (its first page and the count of each need) and in full, p95
against the issue's target of 50 ms.

The decisions are bulk-written the way the sync's follow-up writes them (state, notice with its
reasons, attempts); every measured call goes through the real use case."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, update

from bench.common import percentile, report
from kiosk.demarches import Catalog
from kiosk.followup.reasons import Reason, ReasonKind, reasons_to_json
from kiosk.followup.worklist import FollowUpService, Need, Worklist
from kiosk.store import Store
from kiosk.store.models import ContactAttempt, Dossier, NationalNotice

#: The share of each need among the dossiers to follow.
_MIX = (("a_completer", 0.3), ("attente_paiement", 0.2), ("accepte", 0.3), ("refuse", 0.2))
_REASONS = reasons_to_json(
    (
        Reason(
            ReasonKind.PIECE_PERIMEE,
            "Le justificatif de domicile a plus de 6 mois.",
            piece="justificatif_domicile",
        ),
    )
)


def make_followup(store: Store, to_follow: int, rng: random.Random) -> int:
    """Give ``to_follow`` dossiers of the store (at most half of them) a national decision
    that needs someone; returns how many."""
    with store.read() as s:
        ids = list(s.scalars(select(Dossier.id)))
    chosen = rng.sample(ids, min(to_follow, len(ids) // 2))
    at = datetime(2026, 3, 1, tzinfo=UTC)
    start = 0
    for state, share in _MIX:
        group = chosen[start : start + round(share * len(chosen))]
        start += len(group)
        notices, attempts = [], []
        for i, dossier_id in enumerate(group):
            notices.append(
                {
                    "dossier_id": dossier_id,
                    "at": at + timedelta(minutes=i),
                    "state": state,
                    "detail": "Motif du service national",
                    "reasons": _REASONS if state == "a_completer" else None,
                    "deadline": date(2026, 4, 1) + timedelta(days=i % 30)
                    if state == "a_completer"
                    else None,
                }
            )
            if i % 3 == 0:
                attempts.append(
                    {
                        "dossier_id": dossier_id,
                        "at": at + timedelta(hours=1),
                        "channel": "telephone",
                        "outcome": "injoignable",
                    }
                )
        with store.write() as s:
            s.execute(
                update(Dossier)
                .where(Dossier.id.in_(group))
                .values(state=state, national_number="NAT")
            )
            s.execute(insert(NationalNotice), notices)
            if attempts:
                s.execute(insert(ContactAttempt), attempts)
    return start


def worklist_figures(store: Store, catalog: Catalog, rng: random.Random, runs: int = 60) -> None:
    """Time the worklist with 5,000 dossiers to follow; print p50/p95 against 50 ms."""
    followed = make_followup(store, 5000, rng)
    service = FollowUpService(store, catalog, clock=lambda: datetime.now(UTC))
    calls: tuple[tuple[str, Callable[[], Worklist]], ...] = (
        ("liste de suivi, 1re page (200) + compteurs", service.worklist),
        ("liste de suivi, un besoin (200)", lambda: service.worklist(need=Need.A_COMPLETER)),
        ("liste de suivi complète (5 000)", lambda: service.worklist(limit=5000)),
    )
    for label, call in calls:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            worklist = call()
            times.append(time.perf_counter() - t)
        assert worklist.total >= followed, (worklist.total, followed)  # + the bench's own
        p50, p95 = percentile(times, 0.5) * 1e3, percentile(times, 0.95) * 1e3
        report(f"{label} p50", p50, "ms", "—")
        report(f"{label} p95", p95, "ms", "≤ 50 ms", f"{p95 / 50:.2f}× la cible")
