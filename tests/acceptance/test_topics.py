"""Topics and schemas as a team registers them: through the API, through the browser form, and checked on
the broker and the registry as the team itself sees them (its own principal, the registry's client)."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.acceptance import kafka, steps
from tests.acceptance.conftest import PASSWORDS
from tests.acceptance.http import wait_for
from tests.fixtures.registry_readers import registry_client

ORDER = {"type": "record", "name": "Order", "namespace": "payments.acceptance", "fields": [
    {"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}


@pytest.fixture(scope="module")
def payments_reader(as_user, run):
    """A payments service account, to look at payments' topics on the broker as the team does."""
    return steps.service_account(as_user("alice"), team="payments", name=f"{run}-topics")


def test_a_topic_created_through_the_api_is_on_the_broker(as_user, server, run, payments_reader):
    alice = as_user("alice", server)
    name = f"payments.{run}-api-{server.name}"
    answer = alice.post("topics/", {"cluster": "local", "team": "payments", "name": name, "partitions": 3,
                                    "configs": {"retention.ms": "3600000"}})
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"].endswith(f"/api/v1/topics/{answer.json()['id']}/")

    ready = alice.wait_status(f"topics/{answer.json()['id']}/")
    assert (ready["partitions"], ready["configs"]["retention.ms"]) == (3, "3600000")
    seen = wait_for(lambda: kafka.describe_topic(kafka.client_config(payments_reader), name), timeout=30,
                    message=f"{payments_reader['username']} to see {name}")
    assert seen == {"partitions": 3}


def test_a_topic_created_in_the_browser_form_is_on_the_broker(browser, stack, run, payments_reader):
    name = f"payments.{run}-form"
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{stack.runserver.url}/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORDS["alice"])
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

        page.goto(f"{stack.runserver.url}/topics/new/")
        # Choosing the cluster swaps the form for one with that cluster's rules: type only after the swap.
        with page.expect_response(lambda r: "/topics/new/" in r.url and r.request.method == "GET"):
            page.select_option("#id_cluster", label="local (dev)")
        page.wait_for_load_state("networkidle")
        page.locator("#id_name").fill(name)
        page.locator("#id_partitions").fill("2")
        page.get_by_role("button", name="Create topic").click()
        page.wait_for_url(re.compile(r"/topics/\d+/$"))
        expect(page.get_by_test_id("status-badge")).to_have_text("Ready", timeout=90_000)
        page.screenshot(path=str(stack.log_dir / "topic-form-ready.png"))
    except Exception:
        page.screenshot(path=str(stack.log_dir / "topic-form-failed.png"))
        raise
    finally:
        context.close()
    seen = wait_for(lambda: kafka.describe_topic(kafka.client_config(payments_reader), name), timeout=30,
                    message=f"{payments_reader['username']} to see {name}")
    assert seen == {"partitions": 2}


def test_a_schema_registered_through_the_api_reads_back_from_the_registry(as_user, server, run, registry_url):
    alice = as_user("alice", server)
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-schema-{server.name}", team="payments")
    answer = alice.post("schemas/", {"topic": topic["id"], "side": "value", "format": "AVRO",
                                     "schema": json.dumps(ORDER), "note": "first version"})
    assert answer.status_code == 201, answer.text
    schema = alice.wait_status(f"schemas/{answer.json()['id']}/")
    assert schema["subject"] == f"{topic['name']}-value"

    registry = registry_client(registry_url)
    latest = registry.get_latest_version(schema["subject"])
    assert latest.schema.schema_type == "AVRO"
    assert json.loads(latest.schema.schema_str)["fields"] == ORDER["fields"]
    assert latest.version == 1
