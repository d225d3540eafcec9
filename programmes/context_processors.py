from .models import Organisation


def organisation(request) -> dict:
    user = getattr(request, "user", None)
    access = getattr(request, "access", None)
    return {
        "organisation": getattr(request, "organisation", None),
        "access": access,
        # Counted when the header asks: already known inside an organisation.
        "belongs_to_several_organisations": (
            (lambda: access.organisation_count > 1)
            if access is not None
            else (lambda: user is not None and Organisation.objects.for_user(user).count() > 1)
        ),
    }
