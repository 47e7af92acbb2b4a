"""Users: the profile item and the email claim that keeps email unique.

Keys: USER#<id> / PROFILE and EMAIL#<email> / EMAIL. Every item about one user lives in the USER#<id>
partition; the other entity modules build their sort keys under `pk(user_id)`.
"""

from dataclasses import dataclass
from typing import Any

from craiverse import db


def pk(user_id: str) -> str:
    return f"USER#{user_id}"


PROFILE_SK = "PROFILE"
EMAIL_SK = "EMAIL"


def email_pk(email: str) -> str:
    return f"EMAIL#{email.strip().lower()}"


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    display_name: str | None
    plan: str
    created_at: str
    updated_at: str

    def to_item(self) -> dict[str, Any]:
        return {
            "PK": pk(self.user_id),
            "SK": PROFILE_SK,
            "entity": "user",
            "user_id": self.user_id,
            "email": self.email,
            "display_name": self.display_name,
            "plan": self.plan,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "User":
        return cls(
            user_id=item["user_id"],
            email=item["email"],
            display_name=item.get("display_name"),
            plan=item.get("plan", "free"),
            created_at=item["created_at"],
            updated_at=item["updated_at"],
        )


def get(user_id: str) -> User | None:
    item = db.get(pk(user_id), PROFILE_SK, consistent=True)
    return User.from_item(item) if item else None


def provision_items(user: User) -> list[dict[str, Any]]:
    """Transaction items that create the user and claim its email; both fail if either exists."""
    claim = {"PK": email_pk(user.email), "SK": EMAIL_SK, "entity": "email_claim", "user_id": user.user_id}
    return [db.tx_put(claim, return_old=True), db.tx_put(user.to_item())]


def holder_of(reason: db.Reason) -> str | None:
    """The user id that already holds an email, read from the claim's cancellation reason."""
    if reason.condition_failed and reason.item:
        return str(reason.item["user_id"])
    return None
