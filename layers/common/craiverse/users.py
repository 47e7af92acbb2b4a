"""Users: the profile item and the email claim that keeps email unique.

Keys: USER#<id> / PROFILE and EMAIL#<email> / EMAIL. Every item about one user lives in the USER#<id>
partition; the other entity modules build their sort keys under `pk(user_id)`.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

from craiverse import db
from craiverse.errors import NotFound


def pk(user_id: str) -> str:
    return f"USER#{user_id}"


PROFILE_SK = "PROFILE"
EMAIL_SK = "EMAIL"


def email_pk(email: str) -> str:
    return f"EMAIL#{email.strip().lower()}"


class User(NamedTuple):
    user_id: str
    email: str
    display_name: str | None
    plan: str
    created_at: str
    updated_at: str
    avatar_url: str | None = None

    def to_item(self) -> dict[str, Any]:
        return {"PK": pk(self.user_id), "SK": PROFILE_SK, "entity": "user", **self.view()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "User":
        return cls(
            user_id=item["user_id"],
            email=item["email"],
            display_name=item.get("display_name"),
            plan=item.get("plan", "free"),
            created_at=item["created_at"],
            updated_at=item["updated_at"],
            avatar_url=item.get("avatar_url"),
        )

    def view(self) -> dict[str, Any]:
        """The profile as the API answers it."""
        return {
            "user_id": self.user_id,
            "email": self.email,
            "display_name": self.display_name,
            "avatar_url": self.avatar_url,
            "plan": self.plan,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


# The profile fields a user may change; anything else about a user is the platform's to set.
EDITABLE = ("display_name", "avatar_url")


def profile_key(user_id: str) -> db.Key:
    return pk(user_id), PROFILE_SK


def get(user_id: str) -> User | None:
    item = db.get(pk(user_id), PROFILE_SK, consistent=True)
    return User.from_item(item) if item else None


def require(user_id: str) -> User:
    user = get(user_id)
    if user is None:
        raise NotFound("User not found", {"user_id": user_id})
    return user


def update_profile(user_id: str, changes: Mapping[str, str | None], updated_at: str) -> User:
    """Sets the given editable fields (None removes one) in one conditional update; 404 if no such user."""
    unknown = set(changes) - set(EDITABLE)
    if not changes or unknown:
        raise ValueError(f"changes must name some of {', '.join(EDITABLE)}")
    names = {f"#{name}": name for name in changes}
    sets = [f"#{name} = :{name}" for name, value in changes.items() if value is not None]
    removes = [f"#{name}" for name, value in changes.items() if value is None]
    values: dict[str, Any] = {f":{name}": value for name, value in changes.items() if value is not None}
    values[":updated_at"] = updated_at
    expression = "SET " + ", ".join([*sets, "updated_at = :updated_at"])
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    try:
        item = db.update(
            pk(user_id), PROFILE_SK, expression, values, condition="attribute_exists(PK)", names=names
        )
    except db.ConditionFailed as err:
        raise NotFound("User not found", {"user_id": user_id}) from err
    return User.from_item(item)


def exists_check(user_id: str) -> dict[str, Any]:
    """A transaction item that cancels the transaction (at its position) unless the user exists."""
    return db.tx_check(pk(user_id), PROFILE_SK, "attribute_exists(PK)")


def provision_items(user: User) -> list[dict[str, Any]]:
    """Transaction items that create the user and claim its email; both fail if either exists."""
    claim = {"PK": email_pk(user.email), "SK": EMAIL_SK, "entity": "email_claim", "user_id": user.user_id}
    return [db.tx_put(claim, return_old=True), db.tx_put(user.to_item())]


def holder_of(reason: db.Reason) -> str | None:
    """The user id that already holds an email, read from the claim's cancellation reason."""
    if reason.condition_failed and reason.item:
        return str(reason.item["user_id"])
    return None
