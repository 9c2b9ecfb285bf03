"""The team's audit page in a real browser: long before/after values wrap inside the Changes column and
nothing is cut off at the card's edge, at a laptop's width."""

import pghistory
import pytest

from onboarding.services.teams import team_update
from onboarding.services.topics import topic_create, topic_update
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = ("Card authorisations of the web shop and the point-of-sale terminals, including the refunds that the "
        "payments back office books by hand at the end of each business day; ask #payments-oncall first.")

# Everything inside the history card that ends right of the card or is wider than the box it is drawn in.
CLIPPED = """() => {
  const card = document.querySelector('[data-testid=history]').getBoundingClientRect();
  const out = [];
  for (const el of document.querySelectorAll('[data-testid=history] td, [data-testid=history] th')) {
    const box = el.getBoundingClientRect();
    if (box.right > card.right + 1 || el.scrollWidth > el.clientWidth + 1) out.push(el.innerText.slice(0, 40));
  }
  return out;
}"""


def test_the_changes_column_shows_whole_values_side_by_side(page, live_server, alice, payments, cluster):
    with pghistory.context(user=alice.pk, username="alice", via="browser"):
        topic = topic_create(actor=alice, team=payments, cluster=cluster, name="payments.card-authorisations",
                             partitions=1, replication_factor=1, via="browser")
        topic_update(actor=alice, topic=topic, via="browser", description=LONG, tags=["pci", "billing", "pii"],
                     configs={"retention.ms": "604800000", "cleanup.policy": "delete"})
        team_update(actor=alice, team=payments, via="browser", description=LONG)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "alice", PASSWORD)

    page.goto(f"{live_server.url}/teams/payments/audit/?resource_type=topic")
    page.screenshot(path="/tmp/audit_trail.png", full_page=True)

    changes = page.get_by_test_id("history-changes").first
    assert "pci, billing, pii" in changes.inner_text()
    assert "retention.ms: 604800000" in changes.inner_text()
    assert LONG[-30:] in changes.inner_text()
    assert page.get_by_test_id("history-object").first.inner_text() == "payments.card-authorisations"
    assert page.evaluate(CLIPPED) == []
