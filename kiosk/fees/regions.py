"""From the holder's postcode to the region whose council votes the Y.1 rate.

Geography, not tariff: the 101 departments and their 18 regions change by law, not by council
vote, so the mapping lives here and the rates in ``assets/tarifs/``. Corsica's postcodes start
with 20 for both departments (200xx–201xx: Corse-du-Sud 2A, 202xx–206xx: Haute-Corse 2B); the
overseas departments have three digits (971–976). Saint-Barthélemy (97133) and Saint-Martin
(97150) use Guadeloupe's 971 but are collectivités with their own taxes, as are 975 and 977–988:
they have no region here, and the estimate says so rather than guess.
"""

from __future__ import annotations

__all__ = ["REGION_OF_DEPARTMENT", "department_of", "region_of"]

_REGIONS: dict[str, tuple[str, ...]] = {
    "auvergne_rhone_alpes": (
        "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
    ),
    "bourgogne_franche_comte": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "bretagne": ("22", "29", "35", "56"),
    "centre_val_de_loire": ("18", "28", "36", "37", "41", "45"),
    "corse": ("2A", "2B"),
    "grand_est": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "hauts_de_france": ("02", "59", "60", "62", "80"),
    "ile_de_france": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "normandie": ("14", "27", "50", "61", "76"),
    "nouvelle_aquitaine": (
        "16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87",
    ),
    "occitanie": (
        "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82",
    ),
    "pays_de_la_loire": ("44", "49", "53", "72", "85"),
    "provence_alpes_cote_d_azur": ("04", "05", "06", "13", "83", "84"),
    "guadeloupe": ("971",),
    "martinique": ("972",),
    "guyane": ("973",),
    "la_reunion": ("974",),
    "mayotte": ("976",),
}  # fmt: skip

#: Department code → region id (the keys of ``[regions]`` in a tariff file).
REGION_OF_DEPARTMENT: dict[str, str] = {
    dept: region for region, depts in _REGIONS.items() for dept in depts
}
# Collectivités d'outre-mer sharing Guadeloupe's 971 postcodes, outside any region.
_OUTSIDE_REGIONS = frozenset({"97133", "97150"})


def department_of(postcode: str) -> str | None:
    """The department of a 5-digit French postcode (``"2A"`` for 20000), None if it has none."""
    if len(postcode) != 5 or not postcode.isascii() or not postcode.isdigit():
        return None
    if postcode in _OUTSIDE_REGIONS:
        return None
    if postcode.startswith("97") or postcode.startswith("98"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode[2] in "01" else "2B"
    return postcode[:2]


def region_of(postcode: str) -> str | None:
    """The region id of a postcode, None outside the 18 regions (or for an unknown code)."""
    department = department_of(postcode)
    return None if department is None else REGION_OF_DEPARTMENT.get(department)
