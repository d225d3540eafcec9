from . import ADMIN, Case

CASES = {
    # With ?template=mentors or ?template=mentees it downloads the empty template.
    "mentoring:import_upload": Case(ADMIN),
    # A GET has nothing to confirm and goes back to the upload page.
    "mentoring:import_confirm": Case(ADMIN, ok_status=302),
}
