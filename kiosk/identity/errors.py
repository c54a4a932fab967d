"""One exception hierarchy for reading identity documents; ``str(error)`` is shown to the agent.

Every message is plain French and says what to do next: a card reader is a physical thing in
front of two people, and "SW 6988" means nothing to either of them. The person at the counter
may read English or Arabic: an error given as a :class:`~kiosk.messages.Message` keeps its
template, and :meth:`IdentityError.localized` gives it in their language (the technical detail,
such as what the chip sent, stays a parameter, as written).
"""

from __future__ import annotations

from kiosk.messages import LocalizedError, Message


class IdentityError(LocalizedError):
    """Base class: ``message`` (and ``str()``) is complete French text meant for the agent.

    Args:
        message: a translatable :class:`Message`, or French text shown as is in every language.
    """


class NoReader(IdentityError):
    """No contactless reader, or the PC/SC service is not running."""

    def __init__(self, detail: str = "") -> None:
        if detail:
            super().__init__(
                Message(
                    "Aucun lecteur de carte sans contact n'est disponible : vérifiez que le "
                    "lecteur est branché et que le service de cartes à puce (pcscd) est démarré. "
                    "({detail})",
                    detail=detail,
                )
            )
        else:
            super().__init__(
                Message(
                    "Aucun lecteur de carte sans contact n'est disponible : vérifiez que le "
                    "lecteur est branché et que le service de cartes à puce (pcscd) est démarré."
                )
            )


class NoCard(IdentityError):
    """A reader is there but no card lies on it."""

    def __init__(self, reader: str = "") -> None:
        if reader:
            super().__init__(
                Message(
                    "Aucune carte n'est posée sur le lecteur « {reader} » : posez la carte "
                    "d'identité ou la page du passeport portant la puce à plat sur le lecteur, "
                    "sans la bouger.",
                    reader=reader,
                )
            )
        else:
            super().__init__(
                Message(
                    "Aucune carte n'est posée sur le lecteur : posez la carte d'identité ou "
                    "la page du passeport portant la puce à plat sur le lecteur, sans la bouger."
                )
            )


class WrongAccessKey(IdentityError):
    """The CAN or MRZ data given does not open the chip."""


class WrongCan(WrongAccessKey):
    """The CAN does not match the card; ``tries_left`` comes from the card's 63Cx answer."""

    def __init__(self, tries_left: int | None = None) -> None:
        self.tries_left = tries_left
        # Three whole sentences, not one and a tail: a translation cannot be built by pieces.
        if tries_left is None:
            message = Message(
                "Le numéro CAN saisi ne correspond pas à la carte : vérifiez les 6 chiffres "
                "imprimés au recto de la carte, en bas à droite."
            )
        elif tries_left == 1:
            message = Message(
                "Le numéro CAN saisi ne correspond pas à la carte : vérifiez les 6 chiffres "
                "imprimés au recto de la carte, en bas à droite. Attention : il reste 1 seul "
                "essai, la carte sera bloquée (suspendue) après une nouvelle erreur."
            )
        else:
            message = Message(
                "Le numéro CAN saisi ne correspond pas à la carte : vérifiez les 6 chiffres "
                "imprimés au recto de la carte, en bas à droite. Il reste {tries_left} essais "
                "avant que la carte ne soit bloquée.",
                tries_left=tries_left,
            )
        super().__init__(message)


class InvalidCan(IdentityError, ValueError):
    """What was typed as the CAN is not 6 digits (checked before the card is asked anything)."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "Le numéro CAN compte 6 chiffres, imprimés au recto de la carte, en bas à "
                "droite : vérifiez ce qui a été saisi."
            )
        )


class WrongMrz(WrongAccessKey):
    """Document number, birth date or expiry date do not open the chip."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "Les données saisies (numéro du document, date de naissance, date d'expiration) "
                "n'ouvrent pas la puce : vérifiez-les sur la bande MRZ du document."
            )
        )


class CardBlocked(IdentityError):
    """The card refuses the access method after too many wrong tries."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "La carte est bloquée après trop d'essais de numéro CAN erronés : elle ne peut "
                "plus être lue ici. La personne doit s'adresser à la mairie ou à la préfecture qui "
                "a délivré la carte ; le dossier peut continuer avec une saisie manuelle."
            )
        )


class CardRemoved(IdentityError):
    """The card left the field during the read."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "La carte a été retirée pendant la lecture : replacez la carte sur le lecteur, "
                "sans la bouger, pour reprendre."
            )
        )


class UnreadableCard(IdentityError):
    """The card answered, but not in a way that lets us read it."""


class HostileAnswer(UnreadableCard):
    """A malformed, oversized or inconsistent answer: the read is stopped, nothing trusted."""

    def __init__(self, detail: str) -> None:
        # The detail (what the chip sent) is technical and stays French, as a parameter.
        super().__init__(
            Message(
                "La puce a envoyé une réponse incohérente ; la lecture est arrêtée par sécurité. "
                "Reposez la carte et réessayez ; si cela recommence, la carte est peut-être "
                "endommagée ou contrefaite. ({detail})",
                detail=detail,
            )
        )


class UnsupportedCard(IdentityError):
    """A chip that offers no protocol we can use with the access key given."""


class UnknownCsca(IdentityError):
    """The document's signer chains to no country certificate (CSCA) in the trust store."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        super().__init__(
            Message(
                "Le certificat du pays émetteur (CSCA) de ce document n'est pas dans le magasin "
                "de confiance de la borne ({issuer}) : l'authenticité n'a pas pu être vérifiée.",
                issuer=issuer,
            )
        )


class MrzError(IdentityError, ValueError):
    """A MRZ that cannot be parsed, or whose check digit fails; names the line and field."""
