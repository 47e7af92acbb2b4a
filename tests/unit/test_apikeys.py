"""API key format: high entropy, a readable prefix, only the hash stored, id derived from the hash."""

import pytest

from craiverse import apikeys
from craiverse.apikeys import KeyKind, PrincipalType


def test_generated_keys_carry_their_kind_and_are_unique() -> None:
    secret = apikeys.generate(KeyKind.SECRET)
    publishable = apikeys.generate(KeyKind.PUBLISHABLE)

    assert secret.startswith("crv_sk_")
    assert apikeys.is_well_formed(secret)
    assert publishable.startswith("crv_pk_")
    assert apikeys.is_well_formed(publishable)
    assert apikeys.kind_of(publishable) is KeyKind.PUBLISHABLE
    assert len({apikeys.generate(KeyKind.SECRET) for _ in range(1000)}) == 1000


def test_a_key_carries_256_bits_of_randomness() -> None:
    body = apikeys.generate(KeyKind.SECRET).removeprefix("crv_sk_")

    assert len(body) == 43  # 32 random bytes, url-safe base64


def test_the_key_id_is_derived_from_the_hash_and_never_from_the_key_text() -> None:
    secret = apikeys.generate(KeyKind.SECRET)
    key_hash = apikeys.hash_key(secret)

    assert len(key_hash) == 64
    assert apikeys.key_id_for(key_hash).removeprefix("key_") == key_hash[:20]
    assert secret[7:27] not in apikeys.key_id_for(key_hash)


@pytest.mark.parametrize(
    "text",
    ["", "crv_sk_short", "crv_xx_" + "a" * 43, "crv_sk_" + "a" * 44, "crv_sk_" + "a" * 42 + "!", "Bearer x"],
)
def test_malformed_keys_are_recognised(text: str) -> None:
    assert not apikeys.is_well_formed(text)


def test_user_keys_cannot_be_granted_minting_or_admin_scopes() -> None:
    with pytest.raises(ValueError, match="user keys"):
        apikeys.validate_grant(PrincipalType.USER, KeyKind.SECRET, ("credits:grant",), "free")
    with pytest.raises(ValueError, match="unknown scopes"):
        apikeys.validate_grant(PrincipalType.SERVICE, KeyKind.SECRET, ("credits:everything",), "free")
    with pytest.raises(ValueError, match="tier"):
        apikeys.validate_grant(PrincipalType.SERVICE, KeyKind.SECRET, ("credits:read",), "gold")


@pytest.mark.parametrize("name", ["", "a", "bad id with spaces", "Market-Oracle", "-x-", "x" * 65])
def test_service_names_are_slugs(name: str) -> None:
    with pytest.raises(ValueError, match="service or admin name"):
        apikeys.validate_principal(PrincipalType.SERVICE, name)


def test_publishable_keys_belong_only_to_services() -> None:
    for principal_type in (PrincipalType.USER, PrincipalType.ADMIN):
        with pytest.raises(ValueError, match="publishable"):
            apikeys.validate_grant(principal_type, KeyKind.PUBLISHABLE, (), "free")
    apikeys.validate_grant(PrincipalType.SERVICE, KeyKind.PUBLISHABLE, ("credits:read",), "free")
