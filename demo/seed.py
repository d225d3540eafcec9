"""Fictional demo data.

Organisation and trust names are real NHS bodies; every person is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_scopes import scope

from programmes.models import Membership, Organisation, Programme, Role, Trust

from . import (
    evaluation_cohorts,
    evaluation_equity,
    evaluation_exports,
    evaluation_logic_model,
    evaluation_metrics,
    matching_records,
    papers_agreements,
    papers_capability,
    papers_sessions,
    papers_stages,
    records,
    surveys_instruments,
    surveys_qr,
    surveys_responses,
    surveys_schedule,
)

DEMO_PASSWORD = "demo-mentoring-2026"  # noqa: S105 - published demo password, DEMO_MODE only

WESSEX_TRUSTS = [
    # (short name used in e-mail addresses, trust name, ODS code)
    ("uhs", "University Hospital Southampton NHS Foundation Trust", "RHM"),
    ("phu", "Portsmouth Hospitals University NHS Trust", "RHU"),
    ("hhft", "Hampshire Hospitals NHS Foundation Trust", "RN5"),
    ("uhd", "University Hospitals Dorset NHS Foundation Trust", "R0D"),
    ("dch", "Dorset County Hospital NHS Foundation Trust", "RBD"),
    ("sft", "Salisbury NHS Foundation Trust", "RNZ"),
]
NORTHSHIRE_TRUSTS = [
    ("nth", "Northshire Teaching Hospitals NHS Foundation Trust", "XN1"),
    ("nvh", "Northshire Valley Hospitals NHS Trust", "XN2"),
]
ACADEMY_TRUSTS = [
    ("nra", "National Research Mentoring Academy (central team)", "XA1"),
]
MENTEES_PER_WESSEX_TRUST = 8

FIRST_NAMES = [
    "Amara",
    "Bethan",
    "Callum",
    "Delyth",
    "Efe",
    "Farah",
    "Gethin",
    "Hana",
    "Idris",
    "Jude",
    "Keira",
    "Lowen",
    "Maelle",
    "Niamh",
    "Orla",
    "Priya",
    "Quinn",
    "Rhiannon",
    "Soren",
    "Tamsin",
    "Uma",
    "Veda",
    "Wren",
    "Xanthe",
    "Yusuf",
    "Zara",
    "Ailsa",
    "Bryn",
    "Cerys",
    "Dara",
]
LAST_NAMES = [
    "Ashdown",
    "Brackley",
    "Carrow",
    "Dunmore",
    "Elstead",
    "Fairlie",
    "Greywell",
    "Hartfield",
    "Ilsley",
    "Jessop",
    "Kettering",
    "Lydford",
    "Marwell",
    "Netherby",
    "Oakhurst",
    "Penrose",
    "Quarley",
    "Rookley",
    "Stanmore",
    "Tilford",
    "Upton",
    "Vernham",
    "Wherwell",
    "Yarmouth",
]


def fictional_name(index: int) -> str:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7 + 3) % len(LAST_NAMES)]
    return f"{first} {last}"


@dataclass
class SeededAccount:
    email: str
    organisation: str
    role: str


class DemoSeeder:
    """Creates or updates the demo organisations; running it twice changes nothing."""

    def __init__(self) -> None:
        self.accounts: list[SeededAccount] = []
        self._name_index = 0
        self._password_hash: str | None = None

    def _next_name(self) -> str:
        name = fictional_name(self._name_index)
        self._name_index += 1
        return name

    def user(self, email: str, full_name: str | None = None):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"full_name": full_name or self._next_name(), "is_demo_account": True},
        )
        if created:
            # Hashing once and sharing the hash keeps seeding fast; it is the same password.
            if self._password_hash is None:
                self._password_hash = make_password(DEMO_PASSWORD)
            user.password = self._password_hash
            user.save(update_fields=["password"])
        elif full_name is None:
            self._name_index += 1  # keep generated names stable across runs
        return user

    def member(self, organisation, email: str, role: str, trusts=(), full_name: str | None = None):
        user = self.user(email, full_name)
        membership, _ = Membership.objects.get_or_create(
            organisation=organisation, user=user, role=role
        )
        if trusts:
            membership.trusts.add(*trusts)
        self.accounts.append(SeededAccount(email, organisation.slug, Role(role).label))
        return membership

    def trusts(self, organisation, trusts) -> dict[str, Trust]:
        by_short = {}
        for short, trust_name, ods in trusts:
            trust, _ = Trust.objects.update_or_create(
                organisation=organisation, ods_code=ods, defaults={"name": trust_name}
            )
            by_short[short] = trust
        return by_short

    @transaction.atomic
    def run(self) -> list[SeededAccount]:
        wessex, _ = Organisation.objects.update_or_create(
            slug="wessex",
            defaults={"name": "Wessex Cancer Alliance", "kind": Organisation.Kind.CANCER_ALLIANCE},
        )
        with scope(organisation=wessex):
            self.seed_wessex(wessex)
        northshire, _ = Organisation.objects.update_or_create(
            slug="northshire",
            defaults={"name": "Northshire Integrated Care System", "kind": Organisation.Kind.ICS},
        )
        with scope(organisation=northshire):
            self.seed_northshire(northshire)
        academy, _ = Organisation.objects.update_or_create(
            slug="academy",
            defaults={
                "name": "National Research Mentoring Academy",
                "kind": Organisation.Kind.NATIONAL,
            },
        )
        with scope(organisation=academy):
            self.seed_academy(academy)
        return self.accounts

    def seed_wessex(self, org: Organisation) -> None:
        trusts = self.trusts(org, WESSEX_TRUSTS)
        self.member(org, "admin@wessex.example", Role.ADMIN, full_name="Harriet Lowmoor")
        self.member(org, "evaluator@wessex.example", Role.EVALUATOR, full_name="Ezra Penhallow")
        programme = records.pilot_programme(org, "WCA Legacy Mentor Pilot")
        criteria = list(programme.criteria.all())
        index = 0
        for trust_index, (short, trust) in enumerate(trusts.items()):
            lead = self.member(org, f"lead.{short}@wessex.example", Role.LEAD_NURSE, trusts=[trust])
            mentor_user = self.member(org, f"mentor.{short}@wessex.example", Role.MENTOR).user
            mentor = records.mentor_record(programme, mentor_user, trust, trust_index, criteria)
            for number in range(1, MENTEES_PER_WESSEX_TRUST + 1):
                user = self.member(org, f"mentee{number}.{short}@wessex.example", Role.MENTEE).user
                mentee = records.mentee_record(
                    programme, trust, user, number, index, lead.user, criteria
                )
                records.relationship_for(mentee, mentor, index)
                index += 1
        # The pilot's first intake, who finished mentoring before these mentees started.
        evaluation_equity.seed_first_intake(programme)
        # The relationships' papers: mentor map ticks, agreements, sessions, assessments.
        papers_stages.seed(programme)
        papers_agreements.seed(programme)
        papers_sessions.seed(programme)
        papers_capability.seed(programme)
        # Surveys: instruments, the standard schedule, invitations, responses, the poster.
        surveys_instruments.seed(programme)
        surveys_schedule.seed(programme)
        surveys_responses.seed(programme)
        surveys_qr.seed(programme)
        matching_records.wessex_matching(
            programme, org.memberships.get(user__email="admin@wessex.example").user
        )
        # Circular mentorship: a past mentee at Southampton now mentors others.
        alumna = self.member(org, "mentee7.uhs@wessex.example", Role.MENTOR).user
        records.mentor_record(programme, alumna, trusts["uhs"], 7, criteria)
        records.pending_invitations(
            org,
            programme,
            invited_by=org.memberships.get(user__email="admin@wessex.example").user,
            people=[
                ("mentor.new.phu@wessex.example", "Soren Ashdown", Role.MENTOR, trusts["phu"]),
                (
                    "lead.deputy.uhs@wessex.example",
                    "Maelle Quarley",
                    Role.LEAD_NURSE,
                    trusts["uhs"],
                ),
            ],
        )
        # Last month's anonymised export, ready to download.
        evaluation_exports.seed(programme)
        # Evaluation: the pilot's logic model with live indicators, organisational metrics
        # around its baseline date and comparison groups for retention.
        evaluation_logic_model.seed(programme)
        evaluation_metrics.seed(programme)
        # A first intake that has finished, and the starter survey's optional equality
        # answers, for the baseline versus follow-up and equity reports.
        evaluation_equity.seed(programme)

    def seed_northshire(self, org: Organisation) -> None:
        trusts = self.trusts(org, NORTHSHIRE_TRUSTS)
        self.member(org, "admin@northshire.example", Role.ADMIN, full_name="Gideon Farrowby")
        # A person with roles in both organisations, to show switching between them.
        self.member(org, "evaluator@wessex.example", Role.EVALUATOR, full_name="Ezra Penhallow")
        # Mentees choose their own mentor here (the mentee choice model).
        programme = records.pilot_programme(
            org, "Northshire Legacy Mentoring", Programme.MatchingModel.MENTEE_CHOICE
        )
        criteria = list(programme.criteria.all())
        mentor_users, lead_user = [], None
        index = 100
        for trust_index, (short, trust) in enumerate(trusts.items()):
            lead = self.member(
                org, f"lead.{short}@northshire.example", Role.LEAD_NURSE, trusts=[trust]
            )
            lead_user = lead_user or lead.user
            mentor_user = self.member(org, f"mentor.{short}@northshire.example", Role.MENTOR).user
            mentor_users.append(mentor_user)
            mentor = records.mentor_record(programme, mentor_user, trust, trust_index, criteria)
            for number in (1, 2, 3, 4):
                user = self.member(
                    org, f"mentee{number}.{short}@northshire.example", Role.MENTEE
                ).user
                mentee = records.mentee_record(
                    programme, trust, user, number, index, lead.user, criteria
                )
                records.relationship_for(mentee, mentor, index)
                index += 1
        matching_records.pending_request(programme)
        # A hybrid programme: each mentee picks from a shortlist of three.
        ahp_mentees = [
            self.member(org, f"ahp{number}@northshire.example", Role.MENTEE).user
            for number in (1, 2, 3)
        ]
        matching_records.hybrid_programme(org, mentor_users, ahp_mentees, trusts, lead_user)

    def seed_academy(self, org: Organisation) -> None:
        academy_trusts = self.trusts(org, ACADEMY_TRUSTS)
        admin = self.member(
            org, "admin@academy.example", Role.ADMIN, full_name="Imogen Thackeray"
        ).user
        self.member(org, "evaluator@academy.example", Role.EVALUATOR, full_name="Rafe Dunsford")
        applicants = []
        for number in range(1, 13):
            side = "mentor" if number % 4 == 0 else "mentee"
            email = f"applicant{number}@academy.example"
            user = self.user(email)
            applicants.append((user, side))
        programme = records.academy_programme(org, admin, applicants)
        matching_records.academy_cohort_pool(programme, academy_trusts["nra"])
        # Three earlier cohorts with their pairs and surveys, for the cohort indicators.
        evaluation_cohorts.seed(programme)
