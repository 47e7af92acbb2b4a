"""Opening a user: the profile, its email claim and an empty credit account, in one transaction."""

from craiverse import clock, credits, db, users


def create_user(
    *, email: str, display_name: str | None = None, plan: str = "free", user_id: str | None = None
) -> tuple[users.User, bool]:
    """Creates a user, or answers the one that already holds the email. Returns (user, created)."""
    created_at = clock.iso(clock.now())
    user = users.User(
        user_id=user_id or clock.new_uuid(),
        email=email.strip().lower(),
        display_name=display_name,
        plan=plan,
        created_at=created_at,
        updated_at=created_at,
    )
    account = credits.new_account_item(user.user_id, created_at)
    try:
        db.transact_write([*users.provision_items(user), db.tx_put(account)])
    except db.TransactionCancelled as cancelled:
        holder = users.holder_of(cancelled.reasons[0])
        existing = users.get(holder) if holder else None
        if existing is None:
            raise
        return existing, False
    return user, True
