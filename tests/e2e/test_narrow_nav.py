"""At tablet width (768 px) the top bar fits: the navigation does not overflow and no two items overlap."""

import pytest

from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERLAPS = """() => {
  const items = [...document.querySelectorAll('.topbar .brand, .topbar .mainnav a, .topbar .who > *')];
  const boxes = items.map(e => [e.textContent.trim(), e.getBoundingClientRect()]);
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, s] = boxes[j];
    if (r.left < s.right - 0.5 && s.left < r.right - 0.5 && r.top < s.bottom - 0.5 && s.top < r.bottom - 0.5)
      hits.push(a + ' / ' + b);
  }
  return hits;
}"""


@pytest.mark.parametrize("who", ["alice", "operator"])  # operators have the most links (Import, Admin)
def test_the_navigation_fits_at_768_pixels(browser, live_server, request, who, tmp_path):
    user = request.getfixturevalue(who)
    context = browser.new_context(viewport={"width": 768, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_server, user.username, PASSWORD)
        page.goto(f"{live_server.url}/topics/")
        page.screenshot(path=str(tmp_path / f"nav-{who}.png"))

        nav = page.locator("nav.mainnav")
        assert nav.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        assert page.evaluate(OVERLAPS) == []
        for link in nav.locator("a").all():  # every link wholly on screen
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 768, link.inner_text()
    finally:
        context.close()
