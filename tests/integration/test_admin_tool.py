"""The operator command line: create a user and a key (shown once), list keys, revoke one."""

import json

import pytest

from craiverse import apikeys, credits
from devkit import admin


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = admin.main(["--table", "craiverse-dev", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else err


def test_an_operator_creates_a_user_and_a_key_then_revokes_it(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, user = run(capsys, "create-user", "--email", "Ada@Example.test", "--display-name", "Ada")
    assert code == 0
    assert isinstance(user, dict)
    assert user["email"] == "ada@example.test"
    assert credits.balance(user["user_id"]).balance == 0

    code, again = run(capsys, "create-user", "--email", "ada@example.test")
    assert again == {**user, "created": False}

    code, key = run(capsys, "create-key", "--principal-type", "user", "--principal-id", user["user_id"])
    assert isinstance(key, dict)
    assert apikeys.lookup(key["key"]) is not None

    code, listed = run(capsys, "list-keys")
    assert isinstance(listed, list)
    assert [k["key_id"] for k in listed] == [key["key_id"]]
    assert key["key"] not in json.dumps(listed)

    code, limited = run(capsys, "set-limits", key["key_id"], "--write", "5")
    assert isinstance(limited, dict)
    assert limited["rate_limits"] == {"read": 1000, "write": 5, "ai": 60}
    code, cleared = run(capsys, "set-limits", key["key_id"], "--clear")
    assert isinstance(cleared, dict)
    assert cleared["rate_limits"] == {"read": 1000, "write": 100, "ai": 60}

    code, revoked = run(capsys, "revoke-key", key["key_id"])
    assert isinstance(revoked, dict)
    assert revoked["revoked_at"]
    assert apikeys.lookup(key["key"]) is None


def test_the_tool_refuses_bad_requests_with_a_message(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "revoke-key", "key_missing") == (2, "error: no key key_missing\n")
    code, message = run(capsys, "create-key", "--principal-type", "user", "--principal-id", "nobody")
    assert code == 2
    assert "no user nobody" in str(message)
    code, message = run(
        capsys, "create-key", "--principal-type", "user", "--principal-id", "x", "--scopes", "credits:grant"
    )
    assert code == 2
