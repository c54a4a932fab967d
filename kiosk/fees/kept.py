"""An estimate as a dossier keeps it: plain JSON that gives back the same lines in any language.

A filed dossier keeps the estimate it was filed with (the tariff of that day), and shows that
one from then on, never a recomputation with a newer tariff. What is kept is each line's French
*template* and its parameters (a number, a date, a nested message), not a text in one language:
the review, the receipt and the command line read it back in the person's language, as they read
an estimate just computed. The encoding is the kiosk's own (kiosk/store/models.py ``Estimation``);
a value it cannot read gives :class:`KeptEstimateError`, never a wrong figure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.fees.estimate import Estimate, FeeLine, MissingInput
from kiosk.fees.model import Source, Tax
from kiosk.messages import Euros, Message, Param

__all__ = [
    "KeptEstimateError",
    "dump_lines",
    "dump_message",
    "dump_missing",
    "load_estimate",
    "load_message",
]


class KeptEstimateError(ValueError):
    """A kept estimate that is not one the kiosk wrote (edited by hand, damaged)."""


def dump_message(message: Message) -> dict[str, Any]:
    """``Message("{cv} CV…", cv=7)`` → ``{"m": "{cv} CV…", "p": {"cv": {"i": 7}}}``."""
    return {"m": message.template, "p": {k: _dump_param(v) for k, v in message.params.items()}}


def _dump_param(value: Param) -> Any:
    # Tagged, so that the date 2025-05-01 comes back a date (« 1 May 2025 » in English), the
    # number 7 a number, and a nested message a message — each formatted for the language.
    if isinstance(value, Message):
        return dump_message(value)
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, Euros):
        return {"e": int(value)}
    if isinstance(value, int):
        return {"i": value}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return str(value)


def load_message(data: Any) -> Message:
    """The message :func:`dump_message` wrote."""
    if not isinstance(data, dict) or not isinstance(data.get("m"), str):
        raise KeptEstimateError("message attendu")
    params = data.get("p") or {}
    if not isinstance(params, dict):
        raise KeptEstimateError("paramètres attendus")
    return Message(data["m"], **{str(k): _load_param(v) for k, v in params.items()})


def _load_param(data: Any) -> Param:
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        if "m" in data:
            return load_message(data)
        if isinstance(data.get("i"), int) and not isinstance(data["i"], bool):
            return int(data["i"])
        if isinstance(data.get("e"), int) and not isinstance(data["e"], bool):
            return Euros(data["e"])
        if isinstance(data.get("b"), bool):
            return bool(data["b"])
        if isinstance(data.get("d"), str):
            try:
                return date.fromisoformat(data["d"])
            except ValueError as exc:
                raise KeptEstimateError("paramètre illisible") from exc
    raise KeptEstimateError("paramètre illisible")


def dump_lines(lines: tuple[FeeLine, ...]) -> list[dict[str, Any]]:
    """The lines of an estimate, for the ``lines`` column."""
    return [
        {
            "code": line.code.value,
            "label": dump_message(line.label),
            "amount": line.amount,
            "basis": [dump_message(part) for part in line.basis],
            "source": {
                "id": line.source.id,
                "title": line.source.title,
                "url": line.source.url,
                "read_on": line.source.read_on.isoformat(),
            },
        }
        for line in lines
    ]


def dump_missing(missing: tuple[MissingInput, ...]) -> list[dict[str, Any]]:
    """What was missing to compute an estimate, for the ``missing`` column."""
    return [
        {
            "code": None if item.code is None else item.code.value,
            "label": dump_message(item.label),
            "field": item.field,
            "reason": dump_message(item.reason),
        }
        for item in missing
    ]


def load_estimate(
    *,
    demarche_id: str,
    at: date,
    tariff_version: str | None,
    lines: Any,
    missing: Any,
    note: Any,
    estimated: bool,
) -> Estimate:
    """The estimate kept with a dossier, as it was computed.

    Raises:
        KeptEstimateError: a column is not what the kiosk writes.
    """
    try:
        return Estimate(
            demarche_id=demarche_id,
            at=at,
            tariff_version=tariff_version,
            lines=tuple(_line(item) for item in lines),
            missing=tuple(_missing(item) for item in missing),
            note=None if note is None else load_message(note),
            estimated=estimated,
        )
    except (KeyError, TypeError, ValueError) as exc:  # KeptEstimateError is a ValueError
        raise KeptEstimateError(f"estimation conservée illisible ({exc})") from exc


def _line(data: dict[str, Any]) -> FeeLine:
    amount = data["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise KeptEstimateError("montant entier attendu")
    source = data["source"]
    return FeeLine(
        code=Tax(data["code"]),
        label=load_message(data["label"]),
        amount=amount,
        basis=tuple(load_message(part) for part in data["basis"]),
        source=Source(
            id=str(source["id"]),
            title=str(source["title"]),
            url=str(source["url"]),
            read_on=date.fromisoformat(source["read_on"]),
        ),
    )


def _missing(data: dict[str, Any]) -> MissingInput:
    code = data["code"]
    field = data["field"]
    return MissingInput(
        code=None if code is None else Tax(code),
        label=load_message(data["label"]),
        field=None if field is None else str(field),
        reason=load_message(data["reason"]),
    )
