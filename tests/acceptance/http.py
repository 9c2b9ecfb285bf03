"""Speaking to the portal as its users do: bearer tokens for the API, a logged-in session (with CSRF) for pages."""

from __future__ import annotations

import html
import re
import time
from functools import partial
from urllib.parse import urljoin

import requests

from tests.acceptance.stack import Server
from tests.fixtures import waiting

TIMEOUT = 30


class Api:
    """`Authorization: Bearer <token>` against one server's /api/v1/."""

    def __init__(self, server: Server, token: str):
        self.server = server
        self.token = token
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", **server.headers})

    def __repr__(self):
        return f"Api({self.server.name}, {self.token[:12]}…)"

    def url(self, path: str) -> str:
        return urljoin(self.server.url + "/api/v1/", path.lstrip("/"))

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.http.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def created(self, path: str, body: dict, *, expect: int = 201) -> dict:
        """POST that must answer `expect` (201, or 202 for a change request); returns the JSON body."""
        answer = self.post(path, body)
        assert answer.status_code == expect, f"POST {path} on {self.server.name}: {answer.status_code} {answer.text}"
        return answer.json()

    def ok(self, path: str, **kwargs) -> dict:
        answer = self.get(path, **kwargs)
        assert answer.status_code == 200, f"GET {path} on {self.server.name}: {answer.status_code} {answer.text}"
        return answer.json()

    def wait_status(self, path: str, status: str = "ready", *, timeout: float = 90) -> dict:
        """Poll a resource until its `status` is reached; a `failed` status fails at once with its error."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.ok(path)
            if body.get("status") == status:
                return body
            if body.get("status") == "failed" and status != "failed":
                raise AssertionError(f"{path} failed: {body.get('last_error')}")
            time.sleep(0.5)
        raise AssertionError(f"{path} did not become {status} within {timeout}s: {body}")


# The suite's poller, with the longer defaults the served processes need.
wait_for = partial(waiting.wait_for, timeout=90, interval=0.5)


_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """A person's session over plain HTTP: the login form, CSRF tokens from the pages, forms posted back."""

    def __init__(self, server: Server):
        self.server = server
        self.http = requests.Session()
        self.http.headers.update(server.headers)

    def url(self, path: str) -> str:
        return urljoin(self.server.url, path)

    def page(self, path: str) -> requests.Response:
        answer = self.http.get(self.url(path), timeout=TIMEOUT)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:500]}"
        return answer

    def submit(self, path: str, fields: dict, *, form_page: str | None = None) -> requests.Response:
        """Load the page with the form (for its CSRF token), then post the form as the browser would."""
        page = self.page(form_page or path)
        match = _CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token in the form on {form_page or path}"
        data = {"csrfmiddlewaretoken": html.unescape(match.group(1)), **fields}
        return self.http.post(self.url(path), data=data, headers={"Referer": page.url}, timeout=TIMEOUT)

    def log_in(self, username: str, password: str) -> Browser:
        answer = self.submit("/accounts/login/", {"username": username, "password": password})
        assert answer.status_code == 200 and "sessionid" in self.http.cookies, \
            f"login as {username} failed: {answer.status_code} {answer.url}"
        return self

    def create_token(self, name: str, scope: str = "write") -> str:
        """A personal token from the /tokens/ page, as a person makes one; the secret is on that page only."""
        answer = self.submit("/tokens/", {"name": name, "scope": scope, "expires_in_days": ""})
        assert answer.status_code == 200, answer.text[:500]
        secret = re.search(r'data-testid="token-secret"[^>]*>([^<]+)</code>', answer.text)
        assert secret, f"the token page shows no token: {answer.text[:1000]}"
        return html.unescape(secret.group(1))

    def add_user(self, username: str, password: str) -> None:
        """The Django admin's add-user form, as an operator fills it in."""
        answer = self.submit("/admin/auth/user/add/", {
            "username": username, "password1": password, "password2": password, "usable_password": "true",
            "_save": "Save"})
        assert answer.status_code == 200 and "/admin/auth/user/" in answer.url and "/add/" not in answer.url, \
            f"the admin did not add {username}: {answer.status_code} {answer.url}\n{answer.text[:2000]}"
