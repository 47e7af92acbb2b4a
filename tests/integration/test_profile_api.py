"""GET and PATCH /user/profile: the profile as stored, and exactly the editable fields with their rules."""

from typing import Any

import pytest

from craiverse import db, users
from tests.conftest import DEMO_USER, OTHER_USER
from tests.integration.handlers import SERVICE, STRANGER, USER, call, context

ADA = "https://cdn.example.com/avatars/ada.png"


def profile(user_id: str = DEMO_USER, caller: dict[str, str] = USER) -> tuple[int, dict[str, Any]]:
    status, body, _ = call("user_profile_get", query={"user_id": user_id}, caller=caller)
    return status, body


def patch(caller: dict[str, str] = USER, **fields: Any) -> tuple[int, dict[str, Any]]:
    status, body, _ = call("user_profile_update", body={"user_id": DEMO_USER, **fields}, caller=caller)
    return status, body


def fields_of(body: dict[str, Any]) -> list[str]:
    assert body["code"] == "VALIDATION_ERROR"
    return [f["field"] for f in body["details"]["fields"]]


def test_a_user_reads_its_own_profile(accounts: tuple[str, str]) -> None:
    status, body = profile()

    assert status == 200
    assert body == {
        "user_id": DEMO_USER,
        "email": "demo@example.test",
        "display_name": None,
        "avatar_url": None,
        "plan": "free",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }


def test_a_patch_trims_the_display_name_sets_the_avatar_and_moves_updated_at(
    accounts: tuple[str, str],
) -> None:
    _, before = profile()

    status, body = patch(display_name="  Ada Lovelace\t", avatar_url=ADA)

    assert status == 200
    assert body["display_name"] == "Ada Lovelace"
    assert body["avatar_url"] == ADA
    assert body["created_at"] == before["created_at"]
    assert body["updated_at"] > before["updated_at"]
    assert profile()[1] == body


def test_a_patch_changes_only_the_fields_it_names(accounts: tuple[str, str]) -> None:
    patch(display_name="Ada", avatar_url=ADA)

    _, body = patch(display_name="Countess")

    assert (body["display_name"], body["avatar_url"]) == ("Countess", ADA)
    assert (body["email"], body["plan"]) == ("demo@example.test", "free")


def test_a_null_avatar_url_removes_the_avatar(accounts: tuple[str, str]) -> None:
    patch(avatar_url=ADA)

    status, body = patch(avatar_url=None)

    assert status == 200
    assert body["avatar_url"] is None
    stored = db.get(*users.profile_key(DEMO_USER))
    assert stored is not None
    assert "avatar_url" not in stored


@pytest.mark.parametrize(
    "name",
    ["A", "x" * 80, "  " + "x" * 80 + "  ", "Zoë Åkesson", "李小龙", "Ada 👩‍💻", "O'Brien-Smith Jr."],
)
def test_display_names_of_1_to_80_characters_are_accepted(accounts: tuple[str, str], name: str) -> None:
    status, body = patch(display_name=name)

    assert status == 200
    assert body["display_name"] == name.strip()


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "x" * 81,
        "Ada\nLovelace",
        "Ada\x00",
        "Ada\x1b[31m",
        "Ada\u2028Lovelace",
        "\ud800",
        None,
        42,
        ["Ada"],
    ],
)
def test_bad_display_names_are_400_and_change_nothing(accounts: tuple[str, str], name: Any) -> None:
    status, body = patch(display_name=name)

    assert status == 400
    assert fields_of(body) == ["display_name"]
    assert profile()[1]["display_name"] is None


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/a.png",
        "HTTPS://CDN.EXAMPLE.COM/A.PNG",
        "https://cdn.example.com:8443/a.png?size=128#top",
        "https://cdn.example.com/" + "a" * (2048 - len("https://cdn.example.com/")),
    ],
)
def test_https_avatar_urls_up_to_2048_characters_are_accepted(accounts: tuple[str, str], url: str) -> None:
    status, body = patch(avatar_url=url)

    assert status == 200
    assert body["avatar_url"] == url


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/a.png",
        "ftp://cdn.example.com/a.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "//cdn.example.com/a.png",
        "https://",
        "https:///a.png",
        "https://user:secret@cdn.example.com/a.png",
        "https://cdn.example.com/a b.png",
        "https://cdn.example.com/a\n.png",
        "https://cdn.example.com:99999/a.png",
        "https://cdn.example.com/" + "a" * (2049 - len("https://cdn.example.com/")),
        "",
        42,
    ],
)
def test_bad_avatar_urls_are_400_and_change_nothing(accounts: tuple[str, str], url: Any) -> None:
    status, body = patch(avatar_url=url)

    assert status == 400
    assert fields_of(body) == ["avatar_url"]
    assert profile()[1]["avatar_url"] is None


@pytest.mark.parametrize(
    "field", [{"email": "new@example.com"}, {"plan": "pro"}, {"user_id_2": "x"}, {"created_at": "2020"}]
)
def test_fields_other_than_display_name_and_avatar_url_are_400(
    accounts: tuple[str, str], field: dict[str, str]
) -> None:
    status, body = patch(display_name="Ada", **field)

    assert status == 400
    assert fields_of(body) == list(field)
    assert profile()[1]["display_name"] is None


def test_an_empty_patch_is_400(accounts: tuple[str, str]) -> None:
    status, body = patch()

    assert status == 400
    assert fields_of(body) == ["body"]
    assert "display_name or avatar_url" in body["details"]["fields"][0]["message"]


def test_an_unknown_user_is_404_for_read_and_patch_and_nothing_is_created(accounts: tuple[str, str]) -> None:
    status, body = profile(STRANGER, caller=SERVICE)
    assert status == 404
    assert body == {"error": "User not found", "code": "NOT_FOUND", "details": {"user_id": STRANGER}}

    status, _, _ = call(
        "user_profile_update", body={"user_id": STRANGER, "display_name": "Ghost"}, caller=SERVICE
    )
    assert status == 404
    assert users.get(STRANGER) is None


def test_a_user_key_on_another_user_is_forbidden(accounts: tuple[str, str]) -> None:
    assert profile(OTHER_USER)[0] == 403

    status, _, _ = call("user_profile_update", body={"user_id": OTHER_USER, "display_name": "Mallory"})

    assert status == 403
    assert users.require(OTHER_USER).display_name is None


def test_a_service_edits_any_users_profile_within_its_scopes(accounts: tuple[str, str]) -> None:
    status, _, _ = call(
        "user_profile_update", body={"user_id": OTHER_USER, "display_name": "Bo"}, caller=SERVICE
    )
    assert status == 200

    reader = context("service", "reader", "profile:read")
    assert profile(OTHER_USER, caller=reader)[1]["display_name"] == "Bo"
    status, body, _ = call(
        "user_profile_update", body={"user_id": OTHER_USER, "display_name": "X"}, caller=reader
    )
    assert status == 403
    assert body["details"] == {"required_scope": "profile:write"}
