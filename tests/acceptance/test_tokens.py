"""Tokens: a token made through the API works until it is revoked, then the API answers 401."""


def test_a_revoked_token_gets_401(as_user, server):
    alice = as_user("alice", server)
    made = alice.created("tokens/", {"name": f"ci on {server.name}", "scope": "read"})
    token = as_user("alice", server).__class__(server, made["token"])

    assert token.get("topics/").status_code == 200
    revoked = alice.post(f"tokens/{made['id']}/revoke/")
    assert revoked.status_code == 200, revoked.text

    refused = token.get("topics/")
    assert refused.status_code == 401, refused.text
    assert "revoked" in refused.json()["detail"].lower()
