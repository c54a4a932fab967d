"""Camera OCR benchmark: the time to read a CAN and a MRZ off a photo, and how often it works.

    .venv/bin/python -m bench.ocr_bench [--variantes N]

Photos are drawn (``devices/cardsim/printed.py``): the training CNIe's front (CAN 123456), its
TD1 MRZ and a passport's TD3 MRZ, on a desk, turned by up to ±4°, blurred by up to 2 pixels and
their contrast cut down to 0.3. Time is Tesseract's (``devices/ocr/tesseract.py``) plus the
domain's checks (``kiosk/identity/ocr.py``), on this machine's shared cores. "Right" counts a
reading equal to what was printed (for a MRZ: key fields and names); "wrong" a reading accepted
but different (for a MRZ, counted apart when only a name differs: the check digits hold the
number and dates, the names only the agent's eyes); the rest are refusals, where the agent
recaptures or types.

The reference is typing: a 6-digit CAN about 3 s, a passport's 88-character MRZ about 60 s.
"""

from __future__ import annotations

import argparse
import io
import random
import time
from collections.abc import Callable

from PIL import Image

from bench.common import median, percentile, report
from devices.cardsim.printed import card_front, mrz_page, photographed
from devices.ocr.tesseract import TesseractReader
from kiosk.identity.model import Mrz
from kiosk.identity.mrz import parse_mrz
from kiosk.identity.ocr import CanNotRecognised, MrzNotRecognised, read_can, read_mrz
from kiosk.ports.devices import TextReadError
from tests.identity.ocr_samples import TD1, TD3

TYPING_CAN_S = 3.0
TYPING_MRZ_TD3_S = 60.0


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _key(mrz: Mrz) -> tuple[str, str, str]:
    return mrz.key_seed, mrz.surname, mrz.given_names


def _variant(rng: random.Random, image: Image.Image) -> bytes:
    return _jpeg(
        photographed(
            image,
            angle=rng.uniform(-4, 4),
            blur=rng.choice((0, 0, 0.8, 1.5, 2.0)),
            contrast=rng.choice((1.0, 1.0, 0.6, 0.4, 0.3)),
        )
    )


def _run(
    name: str, image: Image.Image, read: Callable[[bytes], object], want: object, count: int
) -> tuple[list[float], int, int]:
    rng = random.Random(14)
    times: list[float] = []
    right = wrong = names = 0
    for _ in range(count):
        photo = _variant(rng, image)
        started = time.perf_counter()
        try:
            got = read(photo)
        except (CanNotRecognised, MrzNotRecognised, TextReadError):
            got = None
        times.append(time.perf_counter() - started)
        if got == want:
            right += 1
        elif got is not None:
            wrong += 1
            if isinstance(got, tuple) and isinstance(want, tuple) and got[0] == want[0]:
                names += 1
    print(
        f"{name}: {right}/{count} justes, {wrong} acceptées fausses (dont {names} où seul un "
        "nom diffère : numéro et dates justes), le reste refusé"
    )
    return times, right, wrong


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variantes", type=int, default=20, help="photos per kind (20)")
    count = parser.parse_args().variantes
    reader = TesseractReader()
    if reader.unavailable():
        raise SystemExit(reader.unavailable())
    front = card_front(
        surname="MARTIN",
        given_names="MAELYS GAELLE MARIE",
        birth="900713",
        document_number="X4RTBPFW4",
        can="123456",
    )
    can_t, can_ok, _ = _run("CAN", front, lambda p: read_can(reader, p), "123456", count)
    td1_t, td1_ok, _ = _run(
        "MRZ TD1", mrz_page(TD1), lambda p: _key(read_mrz(reader, p)), _key(parse_mrz(TD1)), count
    )
    td3_t, td3_ok, _ = _run(
        "MRZ TD3", mrz_page(TD3), lambda p: _key(read_mrz(reader, p)), _key(parse_mrz(TD3)), count
    )
    for label, times, ok, typing in (
        ("CAN", can_t, can_ok, TYPING_CAN_S),
        ("MRZ TD1", td1_t, td1_ok, None),
        ("MRZ TD3", td3_t, td3_ok, TYPING_MRZ_TD3_S),
    ):
        ratio = f"{median(times) / typing:.2f}× la saisie ({typing:.0f} s)" if typing else ""
        report(f"OCR {label}, médiane", median(times), "s", "≤ 3 s", ratio)
        report(f"OCR {label}, p95", percentile(times, 0.95), "s", "≤ 5 s")
        report(f"OCR {label}, lectures justes", 100 * ok / count, "%", "le plus haut")


if __name__ == "__main__":
    main()
