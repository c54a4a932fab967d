"""One exception hierarchy for reading identity documents; ``str(error)`` is shown to the agent.

Every message is plain French and says what to do next: a card reader is a physical thing in
front of two people, and "SW 6988" means nothing to either of them.
"""

from __future__ import annotations


class IdentityError(Exception):
    """Base class: the message is complete French text meant for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoReader(IdentityError):
    """No contactless reader, or the PC/SC service is not running."""

    def __init__(self, detail: str = "") -> None:
        text = (
            "Aucun lecteur de carte sans contact n'est disponible : vérifiez que le lecteur "
            "est branché et que le service de cartes à puce (pcscd) est démarré."
        )
        super().__init__(f"{text} ({detail})" if detail else text)


class NoCard(IdentityError):
    """A reader is there but no card lies on it."""

    def __init__(self, reader: str = "") -> None:
        where = f" « {reader} »" if reader else ""
        super().__init__(
            f"Aucune carte n'est posée sur le lecteur{where} : posez la carte d'identité ou "
            "la page du passeport portant la puce à plat sur le lecteur, sans la bouger."
        )


class WrongAccessKey(IdentityError):
    """The CAN or MRZ data given does not open the chip."""


class WrongCan(WrongAccessKey):
    """The CAN does not match the card; ``tries_left`` comes from the card's 63Cx answer."""

    def __init__(self, tries_left: int | None = None) -> None:
        self.tries_left = tries_left
        base = (
            "Le numéro CAN saisi ne correspond pas à la carte : vérifiez les 6 chiffres "
            "imprimés au recto de la carte, en bas à droite."
        )
        if tries_left is None:
            text = base
        elif tries_left == 1:
            text = (
                f"{base} Attention : il reste 1 seul essai, la carte sera bloquée (suspendue) "
                "après une nouvelle erreur."
            )
        else:
            text = f"{base} Il reste {tries_left} essais avant que la carte ne soit bloquée."
        super().__init__(text)


class WrongMrz(WrongAccessKey):
    """Document number, birth date or expiry date do not open the chip."""

    def __init__(self) -> None:
        super().__init__(
            "Les données saisies (numéro du document, date de naissance, date d'expiration) "
            "n'ouvrent pas la puce : vérifiez-les sur la bande MRZ du document."
        )


class CardBlocked(IdentityError):
    """The card refuses the access method after too many wrong tries."""

    def __init__(self) -> None:
        super().__init__(
            "La carte est bloquée après trop d'essais de numéro CAN erronés : elle ne peut plus "
            "être lue ici. La personne doit s'adresser à la mairie ou à la préfecture qui a "
            "délivré la carte ; le dossier peut continuer avec une saisie manuelle."
        )


class CardRemoved(IdentityError):
    """The card left the field during the read."""

    def __init__(self) -> None:
        super().__init__(
            "La carte a été retirée pendant la lecture : replacez la carte sur le lecteur, "
            "sans la bouger, pour reprendre."
        )


class UnreadableCard(IdentityError):
    """The card answered, but not in a way that lets us read it."""


class HostileAnswer(UnreadableCard):
    """A malformed, oversized or inconsistent answer: the read is stopped, nothing trusted."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "La puce a envoyé une réponse incohérente ; la lecture est arrêtée par sécurité. "
            f"Reposez la carte et réessayez ; si cela recommence, la carte est peut-être "
            f"endommagée ou contrefaite. ({detail})"
        )


class UnsupportedCard(IdentityError):
    """A chip that offers no protocol we can use with the access key given."""


class UnknownCsca(IdentityError):
    """The document's signer chains to no country certificate (CSCA) in the trust store."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        super().__init__(
            "Le certificat du pays émetteur (CSCA) de ce document n'est pas dans le magasin "
            f"de confiance de la borne ({issuer}) : l'authenticité n'a pas pu être vérifiée."
        )


class MrzError(IdentityError, ValueError):
    """A MRZ that cannot be parsed, or whose check digit fails; names the line and field."""
