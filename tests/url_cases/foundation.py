from . import ADMIN, ALL, Case

CASES = {
    "programmes:home": Case(ALL),
    "programmes:trust_list": Case(ALL),
    "programmes:trust_create": Case(ADMIN),
    "programmes:trust_edit": Case(
        ADMIN, lambda cast, side: {"pk": (cast.trust if side == "home" else cast.foreign_trust).pk}
    ),
    "programmes:people": Case(ADMIN),
    "programmes:audit": Case(ADMIN),
}

OPEN_URLS = {"home", "healthz"}
