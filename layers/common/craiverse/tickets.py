"""Support tickets: creation with a unique human-readable number, and the user's paged listing.

Items:
  USER#<id> / TICKET#<ticket_id>       the ticket; ticket ids sort by creation time, so the newest
                                       come first when the partition is read backwards
  USER#<id> / TICKETEVENT#<event_id>   one per ticket event, on the activity feed (see `activity`)
  TICKETNO#<number> / TICKETNO         claims a ticket number, so no two tickets share one

A ticket, its first event and its number claim are written in one transaction that also checks the user
exists; a number that is already taken (about one chance in 10^12 per ticket) is drawn again.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any, NamedTuple

from craiverse import activity, clock, db, idempotency, notifications, users
from craiverse.config import settings
from craiverse.errors import NotFound, ServerError, ValidationError
from craiverse.log import logger
from craiverse.models import CreateTicket

TICKET_PREFIX = "TICKET#"
EVENT_PREFIX = "TICKETEVENT#"
NUMBER_SK = "TICKETNO"
# Crockford's base32 (no I, L, O or U): easy to read out over the phone and never spells a word.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_LENGTH = 8
NUMBER_PATTERN = re.compile(rf"^TKT-[{NUMBER_ALPHABET}]{{{NUMBER_LENGTH}}}$")
MAX_NUMBER_ATTEMPTS = 5
TICKET_ID_PATTERN = re.compile(r"^tkt_[0-9a-f]{28}$")
OPEN = "open"
CREATED_EVENT = "ticket_created"
EVENT_ENTITY = "ticket_event"


def ticket_sk(ticket_id: str) -> str:
    return f"{TICKET_PREFIX}{ticket_id}"


def event_sk(event_id: str) -> str:
    return f"{EVENT_PREFIX}{event_id}"


def number_pk(number: str) -> str:
    return f"TICKETNO#{number}"


def new_number() -> str:
    return "TKT-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


class Ticket(NamedTuple):
    ticket_id: str
    number: str
    user_id: str
    subject: str
    description: str
    priority: str
    category: str
    status: str
    created_at: str
    updated_at: str

    def to_item(self, actor: str) -> dict[str, Any]:
        """The stored ticket: its keys, what the API shows of it, and the key that opened it."""
        keys = {"PK": users.pk(self.user_id), "SK": ticket_sk(self.ticket_id), "entity": "ticket"}
        return {**keys, **self.view(), "actor_key_id": actor}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Ticket":
        return cls(
            ticket_id=item["ticket_id"],
            number=item["ticket_number"],
            user_id=item["user_id"],
            subject=item["subject"],
            description=item["description"],
            priority=item["priority"],
            category=item["category"],
            status=item["status"],
            created_at=item["created_at"],
            updated_at=item["updated_at"],
        )

    def view(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "ticket_number": self.number,
            "user_id": self.user_id,
            "subject": self.subject,
            "description": self.description,
            "priority": self.priority,
            "category": self.category,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def create(
    request: CreateTicket, *, actor: str, claim: idempotency.Claim | None = None
) -> tuple[dict[str, Any], bool]:
    """Opens a ticket for an existing user (404 otherwise) and queues its `ticket_created` email.

    Returns (the ticket's view, replayed). With an Idempotency-Key a retry answers the first ticket and
    neither opens another nor sends another email.
    """
    notifications.queue_url()  # a function that cannot queue the email fails before it writes
    now = clock.iso(clock.now())
    ticket = Ticket(
        ticket_id=clock.sortable_id("tkt"),
        number=new_number(),
        user_id=request.user_id,
        subject=request.subject,
        description=request.description,
        priority=request.priority,
        category=request.category,
        status=OPEN,
        created_at=now,
        updated_at=now,
    )
    written, earlier = _write(ticket, actor, claim)
    if earlier is not None:
        return earlier, True
    ticket = written
    notifications.queue_email(
        notifications.Template.TICKET_CREATED,
        ticket.user_id,
        {"ticket_number": ticket.number, "subject": ticket.subject, "priority": ticket.priority},
    )
    return ticket.view(), False


def _write(
    ticket: Ticket, actor: str, claim: idempotency.Claim | None
) -> tuple[Ticket, dict[str, Any] | None]:
    """Transaction positions: 0 the user check, 1 the number claim, 2 the ticket, 3 its event,
    4 the Idempotency-Key record. Returns (ticket, None), or (ticket, earlier answer) for a replay."""
    for _ in range(MAX_NUMBER_ATTEMPTS):
        items = [
            users.exists_check(ticket.user_id),
            db.tx_put(_number_claim(ticket)),
            db.tx_put(ticket.to_item(actor)),
            db.tx_put(_created_event(ticket)),
        ]
        if claim:
            ttl = settings().idempotency_ttl_seconds
            items.append(
                claim.record(
                    ticket.view(), created_at=ticket.created_at, now_epoch=int(time.time()), ttl_seconds=ttl
                )
            )
        try:
            db.transact_write(items)
            return ticket, None
        except db.TransactionCancelled as cancelled:
            reasons = cancelled.reasons
            if claim and len(reasons) > 4 and reasons[4].condition_failed and reasons[4].item:
                return ticket, claim.replay(reasons[4].item)
            user_check, number = reasons[0], reasons[1]
            if user_check.condition_failed:
                raise NotFound("User not found", {"user_id": ticket.user_id}) from cancelled
            if not number.condition_failed:
                raise
            logger.info("ticket number taken, drawing another")
            ticket = ticket._replace(number=new_number())
    logger.error("no free ticket number", extra={"attempts": MAX_NUMBER_ATTEMPTS})
    raise ServerError()


def _number_claim(ticket: Ticket) -> dict[str, Any]:
    return {
        "PK": number_pk(ticket.number),
        "SK": NUMBER_SK,
        "entity": "ticket_number",
        "ticket_number": ticket.number,
        "ticket_id": ticket.ticket_id,
        "user_id": ticket.user_id,
    }


def _created_event(ticket: Ticket) -> dict[str, Any]:
    event_id = clock.sortable_id("tev")
    return {
        "PK": users.pk(ticket.user_id),
        "SK": event_sk(event_id),
        "entity": EVENT_ENTITY,
        "event_id": event_id,
        "type": CREATED_EVENT,
        "ticket_id": ticket.ticket_id,
        "ticket_number": ticket.number,
        "user_id": ticket.user_id,
        "subject": ticket.subject,
        "created_at": ticket.created_at,
        **activity.index_keys(ticket.user_id, ticket.created_at, event_id),
    }


def is_event(item: dict[str, Any]) -> bool:
    return item.get("entity") == EVENT_ENTITY


def activity_view(event: dict[str, Any]) -> dict[str, Any]:
    """A ticket event as an item of the activity feed (no amount, no app)."""
    return {
        "type": event["type"],
        "amount": None,
        "source_app": None,
        "description": f"Ticket {event['ticket_number']} opened: {event['subject']}",
        "created_at": event["created_at"],
    }


# ---------------------------------------------------------------------------------------------- listing


class Listing(NamedTuple):
    tickets: list[Ticket]
    next_cursor: str | None

    def view(self) -> dict[str, Any]:
        return {"tickets": [t.view() for t in self.tickets], "next_cursor": self.next_cursor}


def list_for(user_id: str, *, status: str | None, limit: int, cursor: str | None) -> Listing:
    """One page of a user's tickets, newest first. Reads one ticket beyond the page to know whether
    another page follows, so the last page never hands out a cursor to an empty one."""
    start = db.key(users.pk(user_id), ticket_sk(decode_cursor(cursor, user_id, status))) if cursor else None
    found: list[dict[str, Any]] = []
    # NOTE: a status filter reads past tickets of other statuses (DynamoDB filters after reading).
    # A per-status sort key or index would bound that once users hold thousands of tickets.
    while len(found) <= limit:
        page = db.query_page(
            users.pk(user_id),
            sk_prefix=TICKET_PREFIX,
            limit=limit + 1,
            newest_first=True,
            start_key=start,
            equals={"status": status} if status else None,
        )
        found.extend(page.items)
        if page.last_key is None:
            break
        start = page.last_key
    if not found and cursor is None:
        users.require(user_id)  # an empty listing of an unknown user is a 404, not an empty page
    tickets = [Ticket.from_item(item) for item in found[:limit]]
    more = len(found) > limit
    return Listing(tickets, encode_cursor(user_id, status, tickets[-1].ticket_id) if more else None)


# The digest is a checksum, not a signature: it catches an edited or corrupted cursor. What a cursor
# can reach is decided by the authorized user_id (the partition read), never by the cursor.
_CURSOR_CONTEXT = b"craiverse/tickets-cursor/v1\x00"
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def encode_cursor(user_id: str, status: str | None, after: str) -> str:
    payload = json.dumps(
        {"v": 1, "user_id": user_id, "status": status, "after": after}, separators=(",", ":"), sort_keys=True
    ).encode()
    return f"{_b64encode(payload)}.{_b64encode(_digest(payload))}"


def decode_cursor(cursor: str, user_id: str, status: str | None) -> str:
    """The ticket id a cursor continues after; 400 unless it came from this user's listing with this
    status filter and is unaltered."""
    data = _cursor_payload(cursor)
    if (
        data is None
        or data.get("v") != 1
        or data.get("user_id") != user_id
        or data.get("status") != status
        or not TICKET_ID_PATTERN.fullmatch(str(data.get("after")))
    ):
        raise ValidationError.for_field(
            "cursor", "Not a cursor of this listing; list again without one", "invalid"
        )
    return str(data["after"])


def _cursor_payload(cursor: str) -> dict[str, Any] | None:
    body, _, digest = cursor.partition(".")
    if not (_BASE64URL.fullmatch(body) and _BASE64URL.fullmatch(digest)):
        return None
    try:
        payload = _b64decode(body)
        if not hmac.compare_digest(_b64decode(digest), _digest(payload)):
            return None
        data = json.loads(payload)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _digest(payload: bytes) -> bytes:
    return hashlib.sha256(_CURSOR_CONTEXT + payload).digest()[:16]


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    """Strict: only the one canonical spelling of the bytes (unused trailing bits must be zero)."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw
