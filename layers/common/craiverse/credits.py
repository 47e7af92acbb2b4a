"""Credit accounts, the immutable ledger and the monthly usage counters.

Items, all in the user's partition USER#<id> except the reference claims:
  CREDITS             the account: balance, lifetime_earned, lifetime_spent
  LEDGER#<entry_id>   one immutable entry per movement, with the balance after it
  USAGE#<yyyy-mm>     credits used and apps used that month (maintained by deductions)
  CREDITREF#<source>#<reference> / CREDITREF   claims a payment reference so an add applies once
Ledger entries also carry the activity feed's GSI1 keys (see `activity`). A signup bonus is the first
entry of an account, written with the account itself (`open_account_items`).

Every movement is one transaction guarded by the balance it read (optimistic concurrency): the account
update, the ledger entry and the counters commit together or not at all, and a changed balance sends
the movement round again with the fresh balance from the cancellation reason.
"""

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from craiverse import activity, clock, db, idempotency, users
from craiverse.config import settings
from craiverse.errors import Conflict, InsufficientCredits, NotFound, ServerError, ServiceUnavailable
from craiverse.log import logger
from craiverse.models import AddCredits, DeductCredits

ACCOUNT_SK = "CREDITS"
REFERENCE_SK = "CREDITREF"
SIGNUP_BONUS_SOURCE = "signup_bonus"
# A movement that keeps losing the race to other movements on one account gives up (503, nothing
# written) after this many attempts or this long, inside the functions' 10 s timeout.
MAX_OPTIMISTIC_ATTEMPTS = 100
MOVEMENT_DEADLINE_SECONDS = 8.0


def ledger_sk(entry_id: str) -> str:
    return f"LEDGER#{entry_id}"


LEDGER_PREFIX = "LEDGER#"


def usage_sk(month: str) -> str:
    return f"USAGE#{month}"


def reference_pk(source: str, reference: str) -> str:
    return f"CREDITREF#{source}#{reference}"


@dataclass(frozen=True)
class Account:
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


@dataclass(frozen=True)
class Movement:
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
    entry = grant._entry(Account.from_item(account))
    account.update(balance=bonus, lifetime_earned=bonus, updated_at=entry["created_at"])
    return [db.tx_put(account), db.tx_put(entry)]


def account_key(user_id: str) -> db.Key:
    return users.pk(user_id), ACCOUNT_SK


def usage_key(user_id: str, month: str) -> db.Key:
    return users.pk(user_id), usage_sk(month)


@dataclass(frozen=True)
class Usage:
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
    account = balance(request.user_id)

    def reference_claim(
        account: Account, entry: dict[str, Any], body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        claim = {
            "PK": reference_pk(request.source, request.source_reference),
            "SK": REFERENCE_SK,
            "entity": "credit_reference",
            "user_id": request.user_id,
            "amount": request.amount,
            "entry_id": entry["entry_id"],
            "response": json.dumps(body, separators=(",", ":")),
        }
        return [db.tx_put(claim, return_old=True)]

    def replay(reasons: list[db.Reason]) -> Movement | None:
        claim = reasons[2]
        if not (claim.condition_failed and claim.item):
            return None
        if claim.item["user_id"] != request.user_id or claim.item["amount"] != request.amount:
            raise Conflict(
                "source_reference was already used for a different credit",
                {"source": request.source, "source_reference": request.source_reference},
            )
        return Movement(json.loads(claim.item["response"]), replayed=True)

    movement = _Movement(
        user_id=request.user_id,
        delta=request.amount,
        entry_fields={"source": request.source, "source_reference": request.source_reference},
        actor=actor,
    )
    return movement.run(account, extra_items=reference_claim, replay=replay)


def deduct(request: DeductCredits, *, actor: str, claim: idempotency.Claim | None) -> Movement:
    """Spends credits atomically; never overdraws. With an Idempotency-Key, a retry applies once."""
    now_epoch = int(time.time())
    keys = [(users.pk(request.user_id), ACCOUNT_SK)] + ([(claim.pk, idempotency.SK)] if claim else [])
    account_item, *claim_items = db.get_many(keys)
    if claim and (earlier := idempotency.live(claim_items[0], now_epoch)):
        return Movement(claim.replay(earlier), replayed=True)
    account = _require(account_item, request.user_id)

    def extra_items(account: Account, entry: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
        items = [_usage_update(request, entry["created_at"])]
        if claim:
            ttl = settings().idempotency_ttl_seconds
            items.append(
                claim.record(body, created_at=entry["created_at"], now_epoch=now_epoch, ttl_seconds=ttl)
            )
        return items

    def replay(reasons: list[db.Reason]) -> Movement | None:
        if claim is None or len(reasons) < 4:
            return None
        earlier = reasons[3]
        if earlier.condition_failed and earlier.item:
            return Movement(claim.replay(earlier.item), replayed=True)
        return None

    movement = _Movement(
        user_id=request.user_id,
        delta=-request.amount,
        entry_fields={"source_app": request.source_app, "source_action": request.source_action},
        actor=actor,
    )
    return movement.run(account, extra_items=extra_items, replay=replay)


ExtraItems = Callable[[Account, dict[str, Any], dict[str, Any]], list[dict[str, Any]]]
Replay = Callable[[list[db.Reason]], Movement | None]


@dataclass(frozen=True)
class _Movement:
    """One balance change. Transaction positions: 0 account, 1 ledger entry, 2.. the caller's extras."""

    user_id: str
    delta: int
    entry_fields: dict[str, str]
    actor: str

    def run(self, account: Account, *, extra_items: ExtraItems, replay: Replay) -> Movement:
        deadline = time.monotonic() + MOVEMENT_DEADLINE_SECONDS
        for attempt in range(1, MAX_OPTIMISTIC_ATTEMPTS + 1):
            if account.balance + self.delta < 0:
                raise InsufficientCredits(details={"balance": account.balance, "requested": -self.delta})
            entry = self._entry(account)
            body = self._answer(account, entry)
            items = [
                self._account_update(account, entry),
                db.tx_put(entry),
                *extra_items(account, entry, body),
            ]
            try:
                db.transact_write(items)
                return Movement(body)
            except db.TransactionCancelled as cancelled:
                earlier = replay(cancelled.reasons)
                if earlier is not None:
                    return earlier
                account = self._fresh_account(cancelled.reasons)
            if time.monotonic() >= deadline:
                break
            _pause(attempt)
        logger.warning("movement gave up under contention", extra={"attempts": attempt})
        raise ServiceUnavailable(details={"reason": "contention", "outcome": "not applied"})

    def _entry(self, account: Account) -> dict[str, Any]:
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
            "balance_after": account.balance + self.delta,
            "actor_key_id": self.actor,
            "created_at": created_at,
            **activity.index_keys(self.user_id, created_at, entry_id),
            **self.entry_fields,
        }

    def _answer(self, account: Account, entry: dict[str, Any]) -> dict[str, Any]:
        earned, spent = self._lifetime(account)
        return {
            "success": True,
            "user_id": self.user_id,
            "entry_id": entry["entry_id"],
            "type": entry["type"],
            "amount": entry["amount"],
            "balance": entry["balance_after"],
            "lifetime_earned": earned,
            "lifetime_spent": spent,
            **self.entry_fields,
            "created_at": entry["created_at"],
        }

    def _lifetime(self, account: Account) -> tuple[int, int]:
        if self.delta > 0:
            return account.lifetime_earned + self.delta, account.lifetime_spent
        return account.lifetime_earned, account.lifetime_spent - self.delta

    def _account_update(self, account: Account, entry: dict[str, Any]) -> dict[str, Any]:
        earned, spent = self._lifetime(account)
        return db.tx_update(
            users.pk(self.user_id),
            ACCOUNT_SK,
            "SET balance = :after, lifetime_earned = :earned, lifetime_spent = :spent, updated_at = :now",
            {
                ":after": entry["balance_after"],
                ":earned": earned,
                ":spent": spent,
                ":now": entry["created_at"],
                ":before": account.balance,
                ":earned_before": account.lifetime_earned,
                ":spent_before": account.lifetime_spent,
            },
            condition=(
                "balance = :before AND lifetime_earned = :earned_before AND lifetime_spent = :spent_before"
            ),
            return_old=True,
        )

    def _fresh_account(self, reasons: list[db.Reason]) -> Account:
        """The account as it is now, from the failed guard; anything else cancelling is a server fault."""
        guard = reasons[0]
        if guard.condition_failed:
            return _require(guard.item, self.user_id)
        logger.error("transaction cancelled unexpectedly", extra={"reasons": [r.code for r in reasons]})
        raise ServerError()


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


def _pause(attempt: int) -> None:
    """Exponential backoff with full jitter, so writers racing for one account take turns."""
    time.sleep(random.uniform(0, min(0.02, 0.001 * 2 ** min(attempt, 5))))  # noqa: S311 - jitter, not security
