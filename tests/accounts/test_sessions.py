"""meshdash.accounts.sessions remembers which user a session belongs to within a bound, by
the hash of its key only."""

from meshdash.accounts import sessions


def test_it_remembers_a_bounded_number_of_sessions_and_no_key(monkeypatch):
    monkeypatch.setattr(sessions, "_users_by_session", {})
    monkeypatch.setattr(sessions, "REMEMBERED_SESSIONS", 3)
    keys = [f"session-key-{n:02d}" for n in range(5)]
    for number, key in enumerate(keys):
        sessions._remember(key, number)
    remembered = sessions._users_by_session
    assert len(remembered) == 3
    assert remembered == {hash(key): n for n, key in enumerate(keys) if n >= 2}  # oldest gone
    assert not any(isinstance(k, str) for k in remembered)
    sessions._remember(None, 7)
    sessions._remember("no user", None)
    assert len(remembered) == 3
