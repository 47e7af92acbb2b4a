"""Credit accounts, the immutable ledger and the monthly usage counters.

Items, all in the user's partition USER#<id> except the reference claims:
  CREDITS             the account: balance, lifetime_earned, lifetime_spent
  LEDGER#<entry_id>   one immutable entry per movement
  USAGE#<yyyy-mm>     credits used and apps used that month (maintained by deductions)
  CREDITREF#<source>#<reference> / CREDITREF   claims a payment reference so an add applies once
Ledger entries also carry the activity feed's GSI1 keys (see `activity`). A signup bonus is the first
entry of an account, written with the account itself (`open_account_items`).

Every movement is one transaction and one round trip, with nothing read first: the account moves by a
commutative ADD (a debit guarded by `balance >= amount`), and the ledger entry, the counters and the
reference or Idempotency-Key record commit with it or not at all. So the balance always equals the sum
of the entries, concurrent movements on one account never have to be redone, and a refusal (402, 404,
a replay) is read from the cancellation reasons of that same call. The price: DynamoDB returns no
values from a transaction, so an answer is a receipt for the movement, not the new balance.
"""

import json
import time
from typing import Any, NamedTuple

from craiverse import activity, clock, db, idempotency, users
from craiverse.config import settings
from craiverse.errors import Conflict, InsufficientCredits, NotFound, ServerError
from craiverse.log import logger
from craiverse.models import AddCredits, DeductCredits

ACCOUNT_SK = "CREDITS"
REFERENCE_SK = "CREDITREF"
SIGNUP_BONUS_SOURCE = "signup_bonus"


def ledger_sk(entry_id: str) -> str:
    return f"LEDGER#{entry_id}"


LEDGER_PREFIX = "LEDGER#"


def usage_sk(month: str) -> str:
    return f"USAGE#{month}"


def reference_pk(source: str, reference: str) -> str:
    return f"CREDITREF#{source}#{reference}"


class Account(NamedTuple):
    user_id: str
    balance: int
    lifetime_earned: int
    lifetime_spent: int

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Account":
        return cls(item["user_id"], item["balance"], item["lifetime_earned"], item["lifetime_spent"])

    def view(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "balance": self.balance,
            "lifetime_earned": self.lifetime_earned,
            "lifetime_spent": self.lifetime_spent,
        }


class Movement(NamedTuple):
    """The answer to an add or deduct, and whether it replays an earlier identical request."""

    body: dict[str, Any]
    replayed: bool = False


def new_account_item(user_id: str, created_at: str) -> dict[str, Any]:
    return {
        "PK": users.pk(user_id),
        "SK": ACCOUNT_SK,
        "entity": "credit_account",
        "user_id": user_id,
        "balance": 0,
        "lifetime_earned": 0,
        "lifetime_spent": 0,
        "updated_at": created_at,
    }


def open_account_items(user_id: str, created_at: str, *, bonus: int, actor: str) -> list[dict[str, Any]]:
    """Transaction items that open a user's account, with a signup bonus as its first ledger entry."""
    account = new_account_item(user_id, created_at)
    if bonus == 0:
        return [db.tx_put(account)]
    grant = _Movement(
        user_id=user_id,
        delta=bonus,
        entry_fields={"source": SIGNUP_BONUS_SOURCE, "source_reference": user_id},
        actor=actor,
    )
    entry = grant.entry()
    account.update(balance=bonus, lifetime_earned=bonus, updated_at=entry["created_at"])
    return [db.tx_put(account), db.tx_put(entry)]


def account_key(user_id: str) -> db.Key:
    return users.pk(user_id), ACCOUNT_SK


def usage_key(user_id: str, month: str) -> db.Key:
    return users.pk(user_id), usage_sk(month)


class Usage(NamedTuple):
    """One calendar month (UTC) of a user's deductions."""

    credits_used: int
    apps: tuple[str, ...]

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> "Usage":
        if item is None:
            return cls(0, ())
        return cls(int(item.get("credits_used", 0)), tuple(item.get("apps", ())))


def is_entry(item: dict[str, Any]) -> bool:
    return item.get("entity") == "ledger_entry"


def activity_view(entry: dict[str, Any]) -> dict[str, Any]:
    """A ledger entry as an item of the activity feed."""
    return {
        "type": entry["type"],
        "amount": entry["amount"],
        "source_app": entry.get("source_app"),
        "description": _describe(entry),
        "created_at": entry["created_at"],
    }


def _describe(entry: dict[str, Any]) -> str:
    if entry["type"] == "debit":
        return f"{entry['source_app']}: {entry['source_action']}"
    if entry.get("source") == SIGNUP_BONUS_SOURCE:
        return "Signup bonus"
    return f"Credits added ({entry['source']})"


def balance(user_id: str) -> Account:
    return _require(db.get(users.pk(user_id), ACCOUNT_SK, consistent=True), user_id)


def ledger(user_id: str) -> list[dict[str, Any]]:
    """Every entry of a user's ledger, oldest first (operators and tests; the API pages elsewhere)."""
    return db.query(users.pk(user_id), sk_prefix=LEDGER_PREFIX)


def add(request: AddCredits, *, actor: str) -> Movement:
    """Adds credits once per (source, source_reference); a repeat answers the first result."""
    movement = _Movement(
        user_id=request.user_id,
        delta=request.amount,
        entry_fields={"source": request.source, "source_reference": request.source_reference},
        actor=actor,
    )
    entry = movement.entry()
    receipt = movement.receipt(entry)
    claim = {
        "PK": reference_pk(request.source, request.source_reference),
        "SK": REFERENCE_SK,
        "entity": "credit_reference",
        "user_id": request.user_id,
        "amount": request.amount,
        "entry_id": entry["entry_id"],
        "response": json.dumps(receipt, separators=(",", ":")),
    }
    try:
        movement.commit(entry, db.tx_put(claim, return_old=True))
    except db.TransactionCancelled as cancelled:
        earlier = cancelled.reason(2)
        if earlier.condition_failed and earlier.item:
            if earlier.item["user_id"] != request.user_id or earlier.item["amount"] != request.amount:
                raise Conflict(
                    "source_reference was already used for a different credit",
                    {"source": request.source, "source_reference": request.source_reference},
                ) from None
            return Movement(json.loads(earlier.item["response"]), replayed=True)
        raise movement.refusal(cancelled) from None
    return Movement(receipt)


def deduct(request: DeductCredits, *, actor: str, claim: idempotency.Claim | None) -> Movement:
    """Spends credits atomically; never overdraws. With an Idempotency-Key, a retry applies once."""
    movement = _Movement(
        user_id=request.user_id,
        delta=-request.amount,
        entry_fields={"source_app": request.source_app, "source_action": request.source_action},
        actor=actor,
    )
    entry = movement.entry()
    receipt = movement.receipt(entry)
    extra = [_usage_update(request, entry["created_at"])]
    if claim:
        ttl = settings().idempotency_ttl_seconds
        extra.append(
            claim.record(receipt, created_at=entry["created_at"], now_epoch=int(time.time()), ttl_seconds=ttl)
        )
    try:
        movement.commit(entry, *extra)
    except db.TransactionCancelled as cancelled:
        if claim:
            earlier = cancelled.reason(3)
            if earlier.condition_failed and earlier.item:
                return Movement(claim.replay(earlier.item), replayed=True)
        raise movement.refusal(cancelled) from None
    return Movement(receipt)


class _Movement(NamedTuple):
    """One balance change. Transaction positions: 0 account, 1 ledger entry, 2.. the caller's extras."""

    user_id: str
    delta: int
    entry_fields: dict[str, str]
    actor: str

    def commit(self, entry: dict[str, Any], *extra: dict[str, Any]) -> None:
        """One transaction: the account moves by `delta` (a debit only while the balance covers it),
        the entry is written, and the caller's extra items commit with them or not at all."""
        db.transact_write([self._account_update(entry["created_at"]), db.tx_put(entry), *extra])

    def entry(self) -> dict[str, Any]:
        entry_id = clock.sortable_id("le")
        created_at = clock.iso(clock.now())
        return {
            "PK": users.pk(self.user_id),
            "SK": ledger_sk(entry_id),
            "entity": "ledger_entry",
            "entry_id": entry_id,
            "user_id": self.user_id,
            "type": "credit" if self.delta > 0 else "debit",
            "amount": abs(self.delta),
            "actor_key_id": self.actor,
            "created_at": created_at,
            **activity.index_keys(self.user_id, created_at, entry_id),
            **self.entry_fields,
        }

    def receipt(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "success": True,
            "user_id": self.user_id,
            "entry_id": entry["entry_id"],
            "type": entry["type"],
            "amount": entry["amount"],
            **self.entry_fields,
            "created_at": entry["created_at"],
        }

    def _account_update(self, now: str) -> dict[str, Any]:
        lifetime = "lifetime_earned" if self.delta > 0 else "lifetime_spent"
        condition = (
            "attribute_exists(PK)" if self.delta > 0 else "attribute_exists(PK) AND balance >= :amount"
        )
        return db.tx_update(
            users.pk(self.user_id),
            ACCOUNT_SK,
            f"ADD balance :delta, {lifetime} :amount SET updated_at = :now",
            {":delta": self.delta, ":amount": abs(self.delta), ":now": now},
            condition=condition,
            return_old=True,
        )

    def refusal(self, cancelled: db.TransactionCancelled) -> Exception:
        """Why the account refused the movement: no such user, or a balance short of the debit."""
        guard = cancelled.reason(0)
        if guard.condition_failed and guard.item is None:
            return NotFound("User not found", {"user_id": self.user_id})
        if guard.condition_failed and guard.item is not None:
            return InsufficientCredits(details={"balance": guard.item["balance"], "requested": -self.delta})
        logger.error(
            "transaction cancelled unexpectedly", extra={"reasons": [r.code for r in cancelled.reasons]}
        )
        return ServerError()


def _usage_update(request: DeductCredits, now: str) -> dict[str, Any]:
    return db.tx_update(
        users.pk(request.user_id),
        usage_sk(clock.month_of(now)),
        "ADD credits_used :amount, deductions :one, apps :app SET user_id = :user, updated_at = :now",
        {
            ":amount": request.amount,
            ":one": 1,
            ":app": {request.source_app},
            ":user": request.user_id,
            ":now": now,
        },
    )


def _require(item: dict[str, Any] | None, user_id: str) -> Account:
    if item is None:
        raise NotFound("User not found", {"user_id": user_id})
    return Account.from_item(item)
