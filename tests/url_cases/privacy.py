"""Data protection: the people list, a person's summary, erasure and subject access.

The admin's alone. Each side's person is its organisation's mentor (an account) on the
home side and the other organisation's admin on the other; mentees without an account
are covered in tests/test_privacy_access.py. The downloads opened by hand, without
asking for the file, go back to the person's page, so they answer 302.
"""

from . import ADMIN, Case


def _person(cast, side):
    return {"kind": "person", "pk": (cast.mentor if side == "home" else cast.other_admin).pk}


CASES = {
    "privacy:index": Case(ADMIN),
    "privacy:person": Case(ADMIN, _person),
    "privacy:erase": Case(ADMIN, _person),
    "privacy:access_json": Case(ADMIN, _person, ok_status=302),
    "privacy:access_pdf": Case(ADMIN, _person, ok_status=302),
}
