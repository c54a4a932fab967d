"""One complete read of an eMRTD: access control, files, Chip and Passive Authentication.

Order of work, and why:
1. EF.CardAccess (plain) tells which PACE options the chip offers; the French CNIe has no BAC.
   Generic Mapping is preferred, Integrated Mapping used when it is the only one offered.
2. PACE (or BAC when the chip offers no PACE and we have the MRZ), then SELECT the application.
3. EF.COM, EF.SOD, DG14, DG1 first: with them a read interrupted later can resume (same SOD →
   same document) and a failed Chip Authentication still shows who the document claims to be.
4. Chip Authentication where DG14 offers it, before the photo is read from the chip.
5. Active Authentication where DG15 is present (a challenge signed with the DG15 key).
6. DG2, DG11, DG12, DG13, then Passive Authentication over everything read.

Which files exist is the SOD's word (signed), not EF.COM's: a copy cannot hide DG14 or DG15.

``read_resuming`` is the read a reader service calls: when the link fails while the card stays
on the reader, the read goes on in the same secure session where the card allows it
(``sm.SecureTransport``), else in a new one opened at once, the files read kept.

No personal data is logged: only file names, sizes, counts, status words and timings.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, MutableMapping

from devices.nfc import aa, bac, ca, lds, pace, pace_im, passive, tlv
from devices.nfc.apdu import (
    SW_OK,
    CardStatusError,
    CommandApdu,
    CountingTransport,
    LinkInterrupted,
    LinkLog,
    SessionLost,
    Transport,
    split,
)
from devices.nfc.ec import Random
from devices.nfc.files import MAX_EVEN_OFFSET, FileReader, ShortAnswers, read_binary
from devices.nfc.securityinfo import PaceInfo, chip_auth_info, pace_infos
from devices.nfc.signature import UnsupportedSignature
from devices.nfc.sm import SecureMessaging, SecureTransport
from devices.nfc.sod import listed_groups
from kiosk.identity.errors import CardRemoved, HostileAnswer, IdentityError, UnsupportedCard
from kiosk.identity.model import AccessKey, CanKey, IdentityReading, MrzKey, Verdict
from kiosk.messages import Message, translatable
from kiosk.ports.identity import ProgressCallback

log = logging.getLogger(__name__)
EMRTD_AID = bytes.fromhex("A0000002471001")
CARD_ACCESS = 0x011C
#: Files beyond DG1 read when EF.COM lists them (DG3/DG4 need Extended Access Control).
OPTIONAL = ("DG2", "DG11", "DG12", "DG13")
#: Secure sessions one read may open: the first, and two more after sessions lost on the way.
SESSIONS = 3


def _card_access(transport: Transport) -> list[PaceInfo]:
    select = CommandApdu(0x00, 0xA4, 0x02, 0x0C, CARD_ACCESS.to_bytes(2, "big"))
    response = transport.transmit(select.encode())
    if response[-2:] != b"\x90\x00":
        return []  # no EF.CardAccess: a BAC-only passport
    for size in (256, 128, 64):  # plain reads: some cards refuse Le=00 here too
        response = transport.transmit(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=size).encode())
        data, sw = split(response)
        if sw in (SW_OK, 0x6282) and data:
            break
    else:
        return []
    _, length, head = tlv.header(data)
    short = ShortAnswers(head + length, floor=size)  # plain reads of ≤ 256 bytes: all or nothing
    short.check(len(data), size, len(data), sw)

    def send(command: CommandApdu) -> tuple[bytes, int]:
        return split(transport.transmit(command.encode()))

    while len(data) < head + length:
        offset = len(data)
        chunk, sw, asked = read_binary(send, offset, size, size)
        if sw not in (SW_OK, 0x6282) or not chunk:
            raise HostileAnswer("EF.CardAccess tronqué")
        data += chunk
        short.check(len(chunk), asked, len(data), sw, odd=offset > MAX_EVEN_OFFSET)
    return pace_infos(data[: head + length])


def sod_groups(sod: bytes | None) -> list[str] | None:
    """The data groups the SOD lists (``["DG1", "DG2", "DG14"]``), None without a readable SOD."""
    numbers = listed_groups(sod) if sod else None
    if numbers is None:
        return None
    return [f"DG{n}" for n in numbers if f"DG{n}" in lds.FILES]


def _choose(options: list[PaceInfo], access: AccessKey) -> PaceInfo | None:
    """The PACE option to run: Generic Mapping when offered, else Integrated Mapping.

    GM first: the French CNIe offers GM and IM alike and passports offer GM, so GM is the path
    every document we meet can take and the one most exercised; IM costs the same four GENERAL
    AUTHENTICATE steps and brings the kiosk nothing more, so it is the fallback for a chip that
    offers nothing else. Within a mapping, the strongest cipher first.
    """
    gm = [o for o in options if o.mapping == "GM"]
    im = [o for o in options if o.mapping == "IM" and pace_im.supported(o)]
    usable = gm or im
    usable.sort(key=lambda o: -o.cipher.key_length)
    return usable[0] if usable else None


def _open(
    transport: Transport, access: AccessKey, rng: Random, link: LinkLog
) -> tuple[SecureMessaging, str]:
    options = _card_access(transport)
    info = _choose(options, access)
    if info is not None:
        sm = pace.authenticate(transport, info, access, rng)
        name = f"PACE-{info.mapping}-{info.cipher.value[0]} {info.curve.name}"
        channel = SecureTransport(transport, sm, link)
        _, sw = channel.send(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
        if sw != SW_OK:
            raise CardStatusError(sw, "sélection de l'application passeport")
        return channel.sm, f"{name} ({'CAN' if isinstance(access, CanKey) else 'MRZ'})"
    if options:
        raise UnsupportedCard(
            Message(
                "Cette puce ne propose que des variantes de PACE que la borne ne sait pas utiliser."
            )
        )
    if not isinstance(access, MrzKey):
        raise UnsupportedCard(
            Message(
                "Cette puce ne connaît pas le numéro CAN : saisissez le numéro du document et les "
                "dates de naissance et d'expiration (bande MRZ)."
            )
        )
    response = transport.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID).encode())
    if response[-2:] != b"\x90\x00":
        raise CardStatusError(int.from_bytes(response[-2:], "big"), "sélection de l'application")
    return bac.authenticate(transport, access.key_seed(), rng), "BAC-3DES"


def _active_authentication(
    channel: SecureTransport, dg15: bytes, dg14: bytes | None, rng: Random, extended: bool
) -> tuple[bool, str]:
    """``(passed, note)``: the note, when not empty, says why AA could not be verified."""
    challenge = rng(aa.CHALLENGE_LENGTH)
    channel.proving = True  # a refusal is the chip's failure (see sm.SecureTransport)
    try:
        answer, sw = channel.send(aa.command(challenge, extended=extended))
    finally:
        channel.proving = False
    if sw != SW_OK:
        log.warning("active authentication refused: %04X", sw)
        return False, ""
    try:
        return aa.verify(dg15, challenge, answer, aa.ecdsa_hash(dg14)), ""
    except UnsupportedSignature as exc:
        return False, exc.reason


def _chip_sentence(ca_passed: bool, aa_passed: bool, aa_note: str) -> str:
    """What the verdict says about the chip itself, after Passive Authentication succeeded."""
    if ca_passed and aa_passed:
        return " Puce authentique (Chip Authentication et Active Authentication réussies)."
    if ca_passed:
        return " Puce authentique (Chip Authentication réussie)."
    if aa_passed:
        return " Puce authentique (Active Authentication réussie)."
    if aa_note:
        return (
            f" L'Active Authentication n'a pas pu être vérifiée ({aa_note}) : une copie de la "
            "puce ne peut pas être exclue."
        )
    return (
        " La puce ne propose ni Chip Authentication ni Active Authentication : une copie de la "
        "puce ne peut pas être exclue."
    )


def read_document(  # noqa: PLR0915 - one read, in protocol order, reads best in one place
    transport: Transport,
    access: AccessKey,
    *,
    trust: passive.TrustStore,
    rng: Random = os.urandom,
    progress: ProgressCallback | None = None,
    extended: bool = True,
    cache: MutableMapping[str, bytes] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    link: LinkLog | None = None,
) -> IdentityReading:
    """Read and verify the document behind ``transport``, in one secure session.

    ``cache`` keeps the files read so far: after ``CardRemoved`` (or ``SessionLost``), calling
    again with the same mapping skips the files already read if the chip's SOD is the same.
    ``link`` counts the link losses the session outlived.

    Raises:
        SessionLost: the session was lost on the way, the card still there (see
            ``read_resuming``, which opens a new one).
        LinkInterrupted: the link failed while no session was there to go on in (PACE, BAC).
    """
    report = progress or (lambda step, fraction: None)
    cache = cache if cache is not None else {}
    link = link if link is not None else LinkLog()
    counter = CountingTransport(transport)
    start = clock()
    timings: dict[str, float] = {}
    report(translatable("Connexion à la puce"), 0.05)
    sm, protocol = _open(counter, access, rng, link)
    timings["acces"] = clock() - start
    channel = SecureTransport(counter, sm, link)
    files = FileReader(channel, extended=extended)
    file_io: dict[str, tuple[int, int]] = {}

    def fetch(name: str, low: float, high: float, *, fresh: bool = False) -> bytes | None:
        if not fresh and name in cache:
            return cache[name]
        apdus, size = counter.apdus, counter.bytes
        label = "Lecture de la photo" if name == "DG2" else "Lecture de la puce"

        def on_chunk(done: int, total: int) -> None:
            report(label, low + (high - low) * done / max(total, 1))

        partial = f"{name}~"  # the beginning of a file whose read the link cut

        def keep(done: bytes) -> None:
            cache[partial] = done

        data = files.read(lds.FILES[name][0], on_chunk, start=cache.get(partial, b""), keep=keep)
        cache.pop(partial, None)
        file_io[name] = (counter.apdus - apdus, counter.bytes - size)
        log.info("%s: %d bytes, %d APDUs", name, len(data or b""), file_io[name][0])
        if data is not None:
            cache[name] = data
        return data

    reading_start = clock()
    previous_sod = cache.get("SOD")
    com = fetch("COM", 0.10, 0.12, fresh=True)
    sod = fetch("SOD", 0.12, 0.18, fresh=True)
    if previous_sod is not None and previous_sod != sod:
        cache.clear()  # another document: nothing read before may be reused
        if sod is not None:
            cache["SOD"] = sod
    signed = sod_groups(sod)
    # The SOD (signed) says which files the document has, not EF.COM (unsigned): a copied chip
    # cannot skip Chip Authentication by leaving DG14 out of EF.COM or answering 6A82 for it.
    if signed is not None:
        listed = signed
    else:  # no readable SOD: Passive Authentication will say so; read what EF.COM lists
        listed = lds.com_groups(com) if com else ["DG1", *OPTIONAL, "DG14"]
    dg14 = fetch("DG14", 0.18, 0.22) if "DG14" in listed else None
    dg1 = fetch("DG1", 0.22, 0.25)
    if dg1 is None:
        raise HostileAnswer("la puce n'a pas de DG1")
    mrz = lds.dg1_mrz(dg1)

    chip_verified = False
    clone: str | None = None  # why the chip is not the one the State issued
    if dg14 is None and signed is not None and "DG14" in signed:
        clone = (
            "Falsifié : la puce ne donne pas le fichier DG14 que son document de sécurité "
            "signé annonce, et échappe ainsi à la Chip Authentication : copie de puce probable."
        )
    info = chip_auth_info(dg14) if dg14 else None
    if info is not None:
        report(translatable("Vérification de la puce"), 0.27)
        channel.proving = True  # a refusal here is the chip's failure (see sm.SecureTransport)
        try:
            channel.sm = ca.authenticate(channel, info, rng)
            files.select(lds.FILES["DG1"][0])  # the first exchange under the new keys
            chip_verified = True
        except (CardStatusError, HostileAnswer) as exc:
            log.warning("chip authentication failed: %s", type(exc).__name__)
            clone = (
                "Falsifié : la puce n'a pas prouvé qu'elle détient la clé secrète de la carte "
                "(Chip Authentication en échec) : copie de puce probable."
            )
        finally:
            channel.proving = False
    groups: dict[str, bytes] = {"DG1": dg1}
    if dg14 is not None:
        groups["DG14"] = dg14
    aa_passed, aa_note = False, ""
    dg15 = fetch("DG15", 0.27, 0.29) if clone is None and "DG15" in listed else None
    if dg15 is not None:
        groups["DG15"] = dg15
        report(translatable("Vérification de la puce"), 0.29)
        aa_passed, aa_note = _active_authentication(channel, dg15, dg14, rng, extended)
        if not aa_passed and not aa_note:
            clone = (
                "Falsifié : la puce n'a pas signé le défi de la borne avec la clé de son "
                "fichier DG15 (Active Authentication en échec) : copie de puce probable."
            )
    elif clone is None and signed is not None and "DG15" in signed:
        clone = (
            "Falsifié : la puce ne donne pas le fichier DG15 que son document de sécurité "
            "signé annonce, et échappe ainsi à l'Active Authentication : copie de puce probable."
        )
    if clone is None:
        spans = {"DG2": (0.30, 0.85), "DG11": (0.85, 0.88), "DG12": (0.88, 0.9)}
        for name in OPTIONAL:
            if name in listed:
                data = fetch(name, *spans.get(name, (0.9, 0.92)))
                if data is not None:
                    groups[name] = data
    timings["lecture"] = clock() - reading_start

    report(translatable("Vérification de l'authenticité"), 0.93)
    verify_start = clock()
    if clone is not None:
        verdict, reason = Verdict.FALSIFIE, clone
    elif sod is None:
        verdict, reason = Verdict.NON_VERIFIE, "Non vérifié : la puce n'a pas de SOD."
    else:
        result = passive.verify(sod, groups, trust)
        verdict, reason = result.verdict, result.reason
        if verdict is Verdict.AUTHENTIQUE:
            reason += _chip_sentence(chip_verified, aa_passed, aa_note)
    photo = lds.dg2_photo(groups["DG2"]) if "DG2" in groups else None
    timings["verification"] = clock() - verify_start
    timings["total"] = clock() - start
    report(translatable("Lecture terminée"), 1.0)
    return IdentityReading(
        kind=mrz.kind,
        mrz=mrz,
        verdict=verdict,
        verdict_reason=reason,
        chip_verified=chip_verified or aa_passed,
        photo=photo,
        details=lds.details(groups.get("DG11"), groups.get("DG12")),
        dg13=lds.dg13_fields(groups.get("DG13")),
        protocol=protocol + (" + CA" if chip_verified else "") + (" + AA" if aa_passed else ""),
        timings=timings,
        apdu_count=counter.apdus,
        bytes_exchanged=counter.bytes,
        file_io=file_io,
    )


def read_resuming(
    transport: Transport,
    access: AccessKey,
    *,
    trust: passive.TrustStore,
    rng: Random = os.urandom,
    progress: ProgressCallback | None = None,
    extended: bool = True,
    cache: MutableMapping[str, bytes] | None = None,
    link: LinkLog | None = None,
    sessions: int = SESSIONS,
) -> IdentityReading:
    """``read_document``, going on after link losses while the card stays on the reader.

    A loss the session outlives costs one command sent again; a session lost (the card reset,
    or its first answer after a loss refused) is replaced at once by a new PACE/BAC and Chip
    Authentication, the files read kept and a file cut midway read on from where it stopped.
    A link lost during PACE or BAC leaves no session to go on in: a new one is opened too.
    ``CardRemoved`` (the card left the reader) goes to the caller as before.

    Raises:
        CardRemoved: the card left, or the link kept failing through ``sessions`` sessions.
        HostileAnswer: the last session's answers did not verify after a loss.
    """
    cache = cache if cache is not None else {}
    link = link if link is not None else LinkLog()
    reached = [0.0]

    def forward(step: str, fraction: float) -> None:
        # A new session starts again from « Connexion à la puce »: the bar does not go back.
        reached[0] = max(reached[0], fraction)
        if progress is not None:
            progress(step, reached[0])

    opened = 1
    while True:
        try:
            return read_document(
                transport,
                access,
                trust=trust,
                rng=rng,
                progress=forward,
                extended=extended,
                cache=cache,
                link=link,
            )
        except (LinkInterrupted, SessionLost) as exc:
            cause: IdentityError = exc.cause if isinstance(exc, SessionLost) else CardRemoved()
            if opened >= sessions:
                raise cause from None
            opened += 1
            link.reopened += 1
            log.info("secure session lost (%s): opening a new one, %d files kept", exc, len(cache))
