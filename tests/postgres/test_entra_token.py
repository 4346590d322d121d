"""The Entra access token used as the PostgreSQL password: fetched for the right scope, reused
while it has more than the margin left, renewed before it expires; each new connection asks."""
from __future__ import annotations

from dataclasses import dataclass

from shared.postgres import config
from shared.postgres.connection import REFRESH_MARGIN, TOKEN_SCOPE, Database, EntraPassword


@dataclass
class Token:
    token: str
    expires_on: int


class FakeCredential:
    def __init__(self, now, lifetime: int = 3600):
        self.now, self.lifetime, self.scopes = now, lifetime, []

    def get_token(self, *scopes):
        self.scopes.append(scopes)
        return Token(f"token-{len(self.scopes)}", int(self.now[0]) + self.lifetime)


def test_a_token_is_reused_until_the_margin_then_renewed():
    now = [1_000_000.0]
    credential = FakeCredential(now)
    password = EntraPassword(credential, clock=lambda: now[0])
    assert password() == "token-1"
    assert credential.scopes == [(TOKEN_SCOPE,)]
    now[0] += 3600 - REFRESH_MARGIN - 1  # still more than the margin left
    assert password() == "token-1"
    now[0] += 2  # within the margin of its expiry: a new one
    assert password() == "token-2"
    now[0] += 10
    assert password() == "token-2" and len(credential.scopes) == 2


def test_each_new_connection_gets_the_current_token(monkeypatch):
    monkeypatch.setenv("FACE_POSTGRES_HOST", "postgres.example.invalid")
    monkeypatch.setenv("FACE_POSTGRES_USER", "face-app-identity")
    monkeypatch.delenv("FACE_POSTGRES_URL", raising=False)
    now = [2_000_000.0]
    credential = FakeCredential(now, lifetime=600)
    target = config.target()
    assert target.uses_entra and "sslmode=require" in target.conninfo() and "dbname=face" in target.conninfo()
    database = Database(target, password=EntraPassword(credential, clock=lambda: now[0]))
    try:
        assert database._connect_kwargs()["password"] == "token-1"
        now[0] += 600 - REFRESH_MARGIN + 1
        assert database._connect_kwargs()["password"] == "token-2"
        assert database.pool.max_lifetime < 3600  # pooled connections are replaced before a token's hour
    finally:
        database.close()
