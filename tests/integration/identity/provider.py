"""A small OpenID provider on a local port, for the code flow the portal runs against a real one:
a token endpoint that checks the client and the code, a JWKS, and a userinfo endpoint. ID tokens are
signed with a fresh RSA key (RS256), as most providers do."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID, CLIENT_SECRET, CODE, ACCESS_TOKEN = "event-portal", "s3cret", "good-code", "access-1"


class Provider:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.nonce: str | None = None
        self.claims: dict = {}
        self.audience = CLIENT_ID
        self.token_requests: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def _answer(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"]))
                                                     .decode()).items()}
                provider.token_requests.append(form)
                if (form.get("client_id"), form.get("client_secret"), form.get("code")) != (
                        CLIENT_ID, CLIENT_SECRET, CODE):
                    return self._answer(400, {"error": "invalid_grant"})
                return self._answer(200, {"access_token": ACCESS_TOKEN, "token_type": "Bearer",
                                          "id_token": provider.id_token()})

            def do_GET(self):
                if self.path == "/certs":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                    return self._answer(200, {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                if self.path == "/userinfo" and self.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}":
                    return self._answer(200, {"sub": "user-1", **provider.claims})
                return self._answer(401, {"error": "invalid_token"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token(self) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "sub": "user-1", "aud": self.audience, "iat": now, "exp": now + 300,
                   "nonce": self.nonce}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "k1"})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
