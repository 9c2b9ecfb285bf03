"""Who may see and do what through the browser: the services' rules, as HTTP statuses."""

import pytest
from django.urls import reverse

from onboarding.models import ResourceStatus

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"onboarding:{name}", args=args)


@pytest.mark.parametrize("name", ["home", "topic_list", "topic_create", "import"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(url(name))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_visitors_cannot_see_or_change_a_topic(client, public_topic):
    for response in (client.get(url("topic_detail", public_topic.pk)),
                     client.post(url("topic_revert", public_topic.pk)),
                     client.post(url("topic_delete", public_topic.pk), {"confirm_name": public_topic.name})):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    public_topic.refresh_from_db()
    assert public_topic.status == ResourceStatus.PENDING


@pytest.mark.parametrize("method, name", [("get", "topic_edit"), ("post", "topic_edit"), ("get", "topic_delete"),
                                          ("post", "topic_delete"), ("post", "topic_revert"),
                                          ("post", "topic_adopt"), ("post", "topic_edit_validate")])
def test_an_outsider_gets_404_on_a_private_topic_of_another_team(client_for, carol, private_topic, method, name):
    response = getattr(client_for(carol), method)(url(name, private_topic.pk), {"confirm_name": private_topic.name})

    assert response.status_code == 404


def test_an_outsider_cannot_even_see_a_private_topic(client_for, carol, private_topic):
    response = client_for(carol).get(url("topic_detail", private_topic.pk))

    assert response.status_code == 404
    assert private_topic.name not in response.content.decode()


@pytest.mark.parametrize("method, name", [("get", "topic_edit"), ("post", "topic_edit"), ("get", "topic_delete"),
                                          ("post", "topic_delete"), ("post", "topic_revert"),
                                          ("post", "topic_adopt")])
def test_an_outsider_gets_403_on_changing_a_public_topic_of_another_team(client_for, carol, drifted_topic,
                                                                         method, name):
    response = getattr(client_for(carol), method)(url(name, drifted_topic.pk), {"confirm_name": drifted_topic.name})

    assert response.status_code == 403
    drifted_topic.refresh_from_db()
    assert drifted_topic.status == ResourceStatus.DRIFTED


def test_an_outsider_sees_the_metadata_of_a_public_topic_but_no_controls(client_for, carol, drifted_topic):
    response = client_for(carol).get(url("topic_detail", drifted_topic.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert drifted_topic.name in page and "payments@example.org" in page
    assert url("topic_edit", drifted_topic.pk) not in page
    assert url("topic_delete", drifted_topic.pk) not in page
    assert url("topic_revert", drifted_topic.pk) not in page
    assert "Apply history" not in page and drifted_topic.last_error not in page
    assert 'data-testid="drift"' not in page and 'data-testid="drift-banner"' not in page
    history = client_for(carol).get(url("topic_detail", drifted_topic.pk) + "?tab=history").content.decode()
    assert "Apply history" not in history and "Only the topic's team sees its history." in history


def test_a_viewer_can_view_but_not_edit(client_for, vera, public_topic):
    client = client_for(vera)

    detail = client.get(url("topic_detail", public_topic.pk))
    assert detail.status_code == 200
    assert "Apply history" in client.get(url("topic_detail", public_topic.pk) + "?tab=history").content.decode()
    assert url("topic_edit", public_topic.pk) not in detail.content.decode()
    assert client.get(url("topic_edit", public_topic.pk)).status_code == 403
    assert client.post(url("topic_edit", public_topic.pk), {"generation": 1, "partitions": 6}).status_code == 403
    assert client.get(url("topic_create")).status_code == 403
    public_topic.refresh_from_db()
    assert public_topic.partitions == 3


def test_a_member_can_edit_but_only_owners_decide_about_drift(client_for, bob, drifted_topic):
    client = client_for(bob)

    page = client.get(url("topic_detail", drifted_topic.pk)).content.decode()
    assert url("topic_edit", drifted_topic.pk) in page
    assert url("topic_revert", drifted_topic.pk) not in page
    assert client.post(url("topic_revert", drifted_topic.pk)).status_code == 403
    assert client.post(url("topic_adopt", drifted_topic.pk)).status_code == 403


def test_the_owner_sees_the_drift_and_the_decision_buttons(client_for, alice, retention_drifted_topic):
    topic = retention_drifted_topic
    page = client_for(alice).get(url("topic_detail", topic.pk)).content.decode()

    assert url("topic_revert", topic.pk) in page and url("topic_adopt", topic.pk) in page
    assert "86400000" in page and "3600000" in page


def test_only_operators_may_import(client_for, alice, operator, cluster):
    response = client_for(alice).get(url("import"))

    assert response.status_code == 403
    assert "Only platform operators can import topics." in response.content.decode()


def test_the_import_link_is_shown_to_operators_only(client_for, alice, operator):
    assert url("import") not in client_for(alice).get(url("home")).content.decode()
    assert url("import") in client_for(operator).get(url("home")).content.decode()


def test_the_create_form_offers_only_teams_the_user_may_write(client_for, alice, carol, cluster, clinical):
    page = client_for(alice).get(url("topic_create")).content.decode()

    assert '>payments</option>' in page
    assert '>clinical</option>' not in page


def test_posting_for_a_team_the_user_may_not_write_is_refused(client_for, alice, cluster, clinical):
    response = client_for(alice).post(url("topic_create"), {
        "cluster": cluster.pk, "team": clinical.pk, "name": "clinical.labs", "visibility": "public"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not clinical.topics.exists()


def test_an_expired_session_moves_an_htmx_poll_to_the_login_page(client, public_topic):
    detail = url("topic_detail", public_topic.pk)

    response = client.get(detail, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="topic-status",
                          HTTP_HX_CURRENT_URL=f"http://testserver{detail}")

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/accounts/login/?next={detail}"
