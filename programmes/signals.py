"""Signals other apps listen to; ``programmes`` imports none of those apps.

``invitation_accepted``
    Sent by ``programmes.services.invitations.accept_invitation`` inside its
    transaction and the organisation's scope, after the person has been given the
    invitation's Membership. Arguments: ``sender=Invitation``, ``invitation``,
    ``user``. A receiver that raises rolls the acceptance back, so the person is
    never left with a role but without the records that go with it.

``application_accepted``
    Sent by ``programmes.services.applications.decide_application`` inside its
    transaction and scope when an admin accepts an application, after the applicant
    has the matching Membership. Arguments: ``sender=Application``, ``application``,
    ``actor``, and what the admin said about an accepted mentee: ``trust`` (a Trust
    of the organisation, or None), ``role_title`` and ``specialism`` (text, may be
    empty). Receivers take ``**kwargs`` so that more may be added.
"""

from django.dispatch import Signal

invitation_accepted = Signal()
application_accepted = Signal()
