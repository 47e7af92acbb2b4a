"""Figure 4: many clients deducting at once through the local runner, from one account and from many.

Each client is a thread with its own keep-alive connection; amounts are 1 to 5 credits and every account
starts with less than its deductions add up to, so some must be refused. Afterwards every account is
checked: no overdraft (the balance is >= 0, and every refusal saw a balance short of its amount), no
lost update (the
balance is what it started with minus the accepted amounts, `lifetime_spent` is their sum, and there is
exactly one debit entry per accepted deduction), and the ledger adds up to the balance.

Every DynamoDB transaction is recorded too, so the table shows how many each request took: a movement
is one commutative transaction, contended or not, and a refusal (402) is that transaction cancelled.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks import sandbox
from benchmarks.calls import DynamoCalls


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class ContentionResult:
    name: str
    clients: int
    accounts: int
    requests: int
    seconds: float
    statuses: dict[str, int]
    transactions: int
    cancelled_transactions: int
    p50_ms: float
    p99_ms: float
    checks: list[Check]

    @property
    def throughput(self) -> float:
        return round(self.requests / self.seconds, 1)

    @property
    def accepted_per_second(self) -> float:
        return round(self.statuses.get("200", 0) / self.seconds, 1)

    @property
    def transactions_per_request(self) -> float:
        return round(self.transactions / self.requests, 2) if self.requests else 0.0

    @property
    def exact(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass
class ContentionResults:
    runs: list[ContentionResult]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContentionResults:
        return cls(
            [ContentionResult(**{**r, "checks": [Check(**c) for c in r["checks"]]}) for r in data["runs"]]
        )


def measure(clients: int = 16, requests: int = 480) -> ContentionResults:
    with sandbox.local_api() as api:
        from craiverse import db

        http = sandbox.Http(api.url)
        grant_key = sandbox.demo_keys()["market-oracle"]
        one = _accounts(http, grant_key, 1, start=requests)  # 1 to 5 credits each: about 3 x requests asked
        many = _accounts(http, grant_key, 32, start=requests // 32 * 2)
        with DynamoCalls(db.client()) as recorder:
            runs = [
                _race("one account", http, one, clients, requests, recorder),
                _race("many accounts", http, many, clients, requests, recorder),
            ]
    return ContentionResults(runs)


@dataclass
class _Account:
    user_id: str
    key: str
    start: int
    # (balance reported, amount asked) of every 402: the balance must be >= 0 and short of the amount.
    refusals: list[tuple[int, int]] = field(default_factory=list)


def _accounts(http: sandbox.Http, grant_key: str, count: int, *, start: int) -> list[_Account]:
    accounts = []
    for _ in range(count):
        user_id, key = sandbox.new_account(start, grant_key=grant_key, api=http)
        accounts.append(_Account(user_id, key, start))
    return accounts


def _race(
    name: str,
    http: sandbox.Http,
    accounts: list[_Account],
    clients: int,
    requests: int,
    recorder: DynamoCalls,
) -> ContentionResult:
    plan = [(accounts[i % len(accounts)], random.randint(1, 5)) for i in range(requests)]
    random.shuffle(plan)

    def deduct(step: tuple[_Account, int]) -> tuple[_Account, int, int, float]:
        account, amount = step
        body = {"user_id": account.user_id, "amount": amount, "source_app": "bench", "source_action": "race"}
        started = time.perf_counter()
        status, answer = http.call("POST", "/credits/deduct", account.key, body=body)
        if status == 402:
            account.refusals.append((answer["details"]["balance"], amount))
        return account, amount, status, (time.perf_counter() - started) * 1000

    recorder.take()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(deduct, plan))
    seconds = time.perf_counter() - started
    transactions = [c for c in recorder.take() if c.operation == "TransactWriteItems"]

    latencies = [elapsed for *_, elapsed in outcomes]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return ContentionResult(
        name=name,
        clients=clients,
        accounts=len(accounts),
        requests=requests,
        seconds=round(seconds, 2),
        statuses=dict(sorted(Counter(str(status) for _, _, status, _ in outcomes).items())),
        transactions=len(transactions),
        cancelled_transactions=sum(1 for c in transactions if c.error),
        p50_ms=round(statistics.median(latencies), 1),
        p99_ms=round(cuts[98], 1),
        checks=_checks(http, accounts, outcomes),
    )


def _checks(
    http: sandbox.Http, accounts: list[_Account], outcomes: list[tuple[_Account, int, int, float]]
) -> list[Check]:
    from craiverse import credits

    statuses = {status for _, _, status, _ in outcomes}
    problems: dict[str, list[str]] = {"overdraft": [], "lost update": [], "ledger sum": []}
    for account in accounts:
        accepted = [amount for a, amount, status, _ in outcomes if a is account and status == 200]
        status, balance = http.call("GET", f"/credits/balance?user_id={account.user_id}", account.key)
        entries = credits.ledger(account.user_id)
        debits = [e for e in entries if e["type"] == "debit"]
        ledger_sum = sum(e["amount"] if e["type"] == "credit" else -e["amount"] for e in entries)
        if (
            status != 200
            or balance["balance"] < 0
            or not all(0 <= seen < asked for seen, asked in account.refusals)
        ):
            problems["overdraft"].append(account.user_id)
        if (
            balance["balance"] != account.start - sum(accepted)
            or balance["lifetime_spent"] != sum(accepted)
            or len(debits) != len(accepted)
            or sum(e["amount"] for e in debits) != sum(accepted)
        ):
            problems["lost update"].append(account.user_id)
        if ledger_sum != balance["balance"]:
            problems["ledger sum"].append(account.user_id)
    checks = [
        Check(name, not users, f"{len(accounts) - len(users)}/{len(accounts)} accounts")
        for name, users in problems.items()
    ]
    checks.append(Check("only 200 or 402", statuses <= {200, 402}, ", ".join(map(str, sorted(statuses)))))
    return checks
