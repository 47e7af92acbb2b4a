"""Opening a user: the profile, its email claim and the credit account (with any signup bonus as its
first ledger entry), in one transaction; then, for a real signup, the welcome email."""

from craiverse import clock, credits, db, notifications, users
from craiverse.config import settings
from craiverse.models import CreateUser

SYSTEM_ACTOR = "system"


def create_user(
    *,
    email: str,
    display_name: str | None = None,
    plan: str = "free",
    user_id: str | None = None,
    signup_bonus: int = 0,
    actor: str = SYSTEM_ACTOR,
) -> tuple[users.User, bool]:
    """Creates a user, or answers the one that already holds the email. Returns (user, created).

    Everything is written together or not at all, so a repeated call never grants the bonus twice.
    """
    created_at = clock.iso(clock.now())
    user = users.User(
        user_id=user_id or clock.new_uuid(),
        email=email.strip().lower(),
        display_name=display_name,
        plan=plan,
        created_at=created_at,
        updated_at=created_at,
    )
    account = credits.open_account_items(user.user_id, created_at, bonus=signup_bonus, actor=actor)
    try:
        db.transact_write([*users.provision_items(user), *account])
    except db.TransactionCancelled as cancelled:
        holder = users.holder_of(cancelled.reasons[0])
        existing = users.get(holder) if holder else None
        if existing is None:
            raise
        return existing, False
    return user, True


def sign_up(request: CreateUser, *, actor: str) -> tuple[users.User, bool]:
    """The product's signup: the stage's bonus (SIGNUP_BONUS_CREDITS) and, for a new user only, the
    `welcome` email. Idempotent on email: a repeat answers the existing user and sends nothing."""
    notifications.queue_url()  # a function that cannot queue the email fails before it writes
    user, created = create_user(
        email=request.email,
        display_name=request.display_name,
        signup_bonus=settings().signup_bonus_credits,
        actor=actor,
    )
    if created:
        data = {"name": user.display_name} if user.display_name else {}
        notifications.queue_email(notifications.Template.WELCOME, user.user_id, data)
    return user, created
