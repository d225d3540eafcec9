from .models import Organisation


def organisation(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "organisation": getattr(request, "organisation", None),
        "access": getattr(request, "access", None),
        "user_organisations": (
            Organisation.objects.for_user(user) if user is not None else Organisation.objects.none()
        ),
    }
