"""The default capability framework every programme starts with.

It follows the ACCEND framework for people who care for those affected by cancer:
seven levels of practice (``Level``) and four pillars of practice
(``Capability.Pillar``), with a few capabilities under each pillar. The wording is
ours and plain; the organisation admin can reword, reorder, add and remove
capabilities for each programme. Codes are stable: ratings and priorities follow
the row, and ``add_default_framework`` uses the code to know what is there already.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_scopes import scope

from programmes.models import Programme

from .models import Capability, Level

Pillar = Capability.Pillar

# The pillars in the order people read them (not the alphabetical order of their codes).
PILLAR_ORDER = {pillar.value: index for index, pillar in enumerate(Pillar)}

# What choosing each level means, in the mentee's own words.
LEVEL_HINTS = {
    Level.SUPPORTIVE: "I help with this under close supervision.",
    Level.ASSISTIVE: "I do this with guidance, within agreed limits.",
    Level.PRE_REGISTRATION: "I am learning this as a student, with supervision.",
    Level.REGISTRATION: "I do this safely and on my own as a registered professional.",
    Level.ENHANCED: "I bring specialist cancer knowledge to this, including in complex situations.",
    Level.ADVANCED: "I manage complexity and uncertainty here, and guide others.",
    Level.CONSULTANT: "I lead this across services and shape how others practise.",
}


@dataclass(frozen=True)
class DefaultCapability:
    code: str
    pillar: str
    title: str


DEFAULT_CAPABILITIES: tuple[DefaultCapability, ...] = (
    DefaultCapability(
        "holistic-needs",
        Pillar.CLINICAL,
        "Assesses and manages the holistic needs of people affected by cancer",
    ),
    DefaultCapability(
        "sensitive-communication",
        Pillar.CLINICAL,
        "Communicates complex and sensitive information, including bad news",
    ),
    DefaultCapability(
        "treatment-knowledge",
        Pillar.CLINICAL,
        "Applies knowledge of cancer, its treatments and their effects to each person's care",
    ),
    DefaultCapability(
        "personalised-care",
        Pillar.CLINICAL,
        "Plans personalised care and support with people and those close to them",
    ),
    DefaultCapability(
        "team-practice",
        Pillar.LEADERSHIP,
        "Leads and develops the multidisciplinary team's practice",
    ),
    DefaultCapability(
        "workload",
        Pillar.LEADERSHIP,
        "Manages their own workload, priorities and time safely",
    ),
    DefaultCapability(
        "service-voice",
        Pillar.LEADERSHIP,
        "Speaks up for people affected by cancer when services are planned or changed",
    ),
    DefaultCapability(
        "supports-learning",
        Pillar.EDUCATION,
        "Supports the learning of patients, carers and colleagues",
    ),
    DefaultCapability(
        "own-development",
        Pillar.EDUCATION,
        "Takes charge of their own learning and professional development",
    ),
    DefaultCapability(
        "reflective-practice",
        Pillar.EDUCATION,
        "Reflects on practice and uses clinical supervision to learn from it",
    ),
    DefaultCapability(
        "evidence-audit",
        Pillar.RESEARCH,
        "Uses evidence and audit to improve cancer services",
    ),
    DefaultCapability(
        "research-access",
        Pillar.RESEARCH,
        "Helps people affected by cancer to find and take part in research",
    ),
    DefaultCapability(
        "improvement",
        Pillar.RESEARCH,
        "Tries out improvements to care and measures what difference they make",
    ),
)


def add_default_framework(programme: Programme) -> int:
    """Give the programme every default capability it lacks; return how many were added.

    Safe to call again: a capability whose code the programme already has (even
    reworded or moved) is left alone.
    """
    with scope(organisation=programme.organisation_id), transaction.atomic():
        existing = set(
            Capability.objects.filter(programme=programme).values_list("code", flat=True)
        )
        positions: dict[str, int] = {}
        missing = []
        for default in DEFAULT_CAPABILITIES:
            positions[default.pillar] = positions.get(default.pillar, 0) + 1
            if default.code not in existing:
                missing.append(
                    Capability(
                        programme=programme,
                        pillar=default.pillar,
                        code=default.code,
                        title=default.title,
                        position=positions[default.pillar],
                    )
                )
        Capability.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def reading_key(capability: Capability) -> tuple[int, int, int]:
    """Sorts capabilities by pillar (in the framework's order), then position."""
    return (
        PILLAR_ORDER.get(capability.pillar, len(PILLAR_ORDER)),
        capability.position,
        capability.pk,
    )


def in_reading_order(capabilities) -> list[Capability]:
    return sorted(capabilities, key=reading_key)


def by_pillar(capabilities) -> list[tuple[str, str, list]]:
    """``(pillar code, pillar label, items)`` for each pillar that has any, in order.

    Items are capabilities, or anything with a ``capability`` attribute.
    """
    groups: dict[str, list] = {}
    for item in capabilities:
        capability = getattr(item, "capability", item)
        groups.setdefault(capability.pillar, []).append(item)
    return [
        (pillar.value, pillar.label, groups[pillar.value]) for pillar in Pillar if pillar in groups
    ]
