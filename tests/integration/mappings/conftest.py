"""Fixtures of the mapping tests: clinical (the source team, carol its owner) maps its admissions into the
governance team's canonical std.patient (gina its owner, gil a second owner who approves)."""

import pytest

from onboarding.models import Membership
from onboarding.services.code_tables import code_table_create
from onboarding.services.mappings import canonical_topic_mark
from onboarding.services.teams import membership_set, team_create
from tests.fixtures.actors import _user
from tests.integration.mappings.helpers import ADMISSION, GENDER_CODES, PATIENT, value_schema
from tests.integration.subscriptions.helpers import make_topic


@pytest.fixture
def governance(db):
    return team_create(actor=None, slug="std", name="Data governance")


@pytest.fixture
def gina(governance):
    user = _user("gina")
    membership_set(actor=None, team=governance, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def gil(governance):
    user = _user("gil")
    membership_set(actor=None, team=governance, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def canonical(cluster, gina, governance):
    topic = make_topic(gina, cluster, governance, name="std.patient")
    value_schema(topic, PATIENT, registry_id=4242)
    canonical_topic_mark(actor=gina, topic=topic, description="A patient, the HL7 way")
    return topic


@pytest.fixture
def admissions(cluster, carol, clinical):
    topic = make_topic(carol, cluster, clinical, name="clinical.admissions")
    value_schema(topic, ADMISSION)
    return topic


@pytest.fixture
def gender_table(carol, clinical):
    return code_table_create(actor=carol, team=clinical, name="hl7-gender", entries=GENDER_CODES,
                             has_default=True, default="unknown", description="Local sex codes to HL7 gender")
