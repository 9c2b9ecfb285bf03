"""Deleting a topic with schemas asks about the subjects, then deletes them from the registry too."""

import pytest

from onboarding.errors import ValidationError
from onboarding.models import ResourceStatus
from onboarding.services.schemas import schema_version_submit
from onboarding.services.topics import topic_create, topic_delete
from tests.fixtures.waiting import wait_for_status

ADMISSION = '{"type": "record", "name": "Admission", "fields": [{"name": "id", "type": "string"}]}'

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_topic_with_schemas_is_deleted_only_with_its_subjects(celery_worker, cluster, payments, alice,
                                                                 topic_name, registry_http, registry_url):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("with-schema"),
                         partitions=1, replication_factor=1)
    wait_for_status(topic, ResourceStatus.READY)
    version = schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=ADMISSION)
    schema = wait_for_status(version.schema, ResourceStatus.READY)
    subject = schema.subject
    assert registry_http.get(f"{registry_url}/subjects/{subject}/versions").json() == [1]

    with pytest.raises(ValidationError) as refused:
        topic_delete(actor=alice, topic=topic, confirm_name=topic.name)
    assert subject in refused.value.message_dict["delete_schemas"][0]

    topic_delete(actor=alice, topic=topic, confirm_name=topic.name, delete_schemas=True)

    wait_for_status(topic, ResourceStatus.DELETED)
    wait_for_status(schema, ResourceStatus.DELETED)
    listed = registry_http.get(f"{registry_url}/subjects", params={"deleted": "true"}).json()
    assert subject not in listed
