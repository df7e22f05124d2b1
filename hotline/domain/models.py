"""Database tables: units, people, tickets, their events and clocks."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from hotline.domain.indexes import (
    MARKED_LINK,
    NOT_BREACHED,
    NOT_WARNED,
    OPEN_CLOCK,
    OVERDUE_CANDIDATES,
    UNREPLIED_DUE,
    UNSIGNED_DUE,
    SUB_REPLIED,
    WORK_LINK,
    WhereIndex,
)


class Unit(Model):
    """A responsible unit (承办单位) loaded from data/units.toml."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100, unique=True)
    kind = fields.CharField(max_length=16)
    parent_code = fields.CharField(max_length=32, default="")
    email = fields.CharField(max_length=200, default="")
    active = fields.BooleanField(default=True)

    class Meta:
        table = "unit"


class User(Model):
    """A person who signs in: operator, unit staff, supervisor or admin."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64, default="")
    password_hash = fields.CharField(max_length=200)
    role = fields.CharField(max_length=16)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    unit_id: int | None
    email = fields.CharField(max_length=200, default="")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "app_user"


class ApiToken(Model):
    """A bearer token for programs; only its SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    label = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()
    revoked = fields.BooleanField(default=False)
    # NULL only for tokens issued before expiry existed: they expire TOKEN_TTL_DAYS after
    # created_at (see principal_for_token), so an upgrade needs no data migration.
    expires_at = fields.DatetimeField(null=True)
    # Written at most once a minute per token (a conditional UPDATE), not on every request.
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class WebSession(Model):
    """A signed-in page session: the cookie carries its random id (only its SHA-256 is stored).

    Being a row, it ends for every worker at once: sign-out, a password change, disabling
    the account or an admin's 全部登出 set `revoked_at`. `last_seen_at` is the last real
    activity (not background polls), written at most every 30 s; `expires_at` is the absolute
    end (SESSION_MAX_HOURS after sign-in). Housekeeping deletes rows that can no longer be used.
    """

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="web_sessions", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    revoked_at = fields.DatetimeField(null=True)
    # Shown to the user and to admins so a session can be recognised ("this is my laptop").
    user_agent = fields.CharField(max_length=200, default="")
    address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "web_session"


class RateCounter(Model):
    """Hits of one rate-limit key in one fixed time window, shared by every web worker.

    `key` names the scope, the client or ticket and the window (e.g. ``addr:1.2.3.4:2950113``);
    `expires` (Unix seconds) is when the window ends, so old rows can be purged.
    """

    key = fields.CharField(max_length=160, primary_key=True)
    hits = fields.IntField(default=0)
    # Attempts under way (reserved, not yet known to be right or wrong): a limiter waits for
    # them instead of refusing, so right answers never use up the limit (hotline.services.counters).
    pending = fields.IntField(default=0, db_default=0)  # existing rows get 0 in 0009
    expires = fields.BigIntField(db_index=True)

    class Meta:
        table = "rate_counter"


class LoginKnownAddress(Model):
    """An address (HMAC digest) a user last signed in from successfully, and when.

    Failures elsewhere never refuse sign-in from here (hotline.services.login_throttle).
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="known_addresses", on_delete=fields.CASCADE
    )
    user_id: int
    address_digest = fields.CharField(max_length=64)
    last_success_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "login_known_address"
        unique_together = (("user", "address_digest"),)


class TicketCounter(Model):
    """The last sequence number handed out for one local day."""

    day = fields.CharField(max_length=8, primary_key=True)
    value = fields.IntField(default=0)

    class Meta:
        table = "ticket_counter"


class Ticket(Model):
    """One citizen contact (工单)."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)
    query_code = fields.CharField(max_length=6)
    channel = fields.CharField(max_length=16)
    kind = fields.CharField(max_length=4)
    urgency = fields.CharField(max_length=4)
    category = fields.CharField(max_length=32, null=True)
    title = fields.CharField(max_length=200)
    content = fields.TextField()
    # 转办内容: what units receive instead of the verbatim content (NULL: the content masked).
    dispatch_text = fields.TextField(null=True)
    # The title units read (NULL on older tickets: the title masked). For a 举报 or a
    # confidential ticket both are a proposal until a person at the centre confirms them.
    dispatch_title = fields.CharField(max_length=200, null=True)
    dispatch_confirmed_at = fields.DatetimeField(null=True)
    address = fields.CharField(max_length=300, default="")
    district = fields.CharField(max_length=64, default="")
    street = fields.CharField(max_length=64, default="")
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    complainant_name = fields.CharField(max_length=64, default="")
    complainant_phone = fields.CharField(max_length=32, default="", db_index=True)
    complainant_email = fields.CharField(max_length=200, default="")
    complainant_openid = fields.CharField(max_length=64, default="", db_index=True)
    anonymous = fields.BooleanField(default=False)
    confidential = fields.BooleanField(default=False)
    # The complainant declined text messages (短信通知); no SMS is queued for this ticket.
    sms_opt_out = fields.BooleanField(default=False, db_default=False)
    # A confidential reporter who asked not to be contacted at all: no SMS, no callback call.
    no_contact = fields.BooleanField(default=False, db_default=False)
    attachments: Any = fields.JSONField(default=list)
    status = fields.CharField(max_length=24)
    lead_unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="led_tickets", null=True, on_delete=fields.RESTRICT
    )
    lead_unit_id: int | None
    routing: Any = fields.JSONField(default=dict)
    needs_review = fields.BooleanField(default=False)
    merged_into: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="merged", null=True, on_delete=fields.RESTRICT
    )
    merged_into_id: int | None
    result = fields.CharField(max_length=16, null=True)
    satisfaction = fields.CharField(max_length=8, null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="created_tickets", null=True, on_delete=fields.RESTRICT
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    # When the complainant's contact data was removed (RETENTION_DAYS after closing); once only.
    anonymised_at = fields.DatetimeField(null=True)
    clocks: fields.ReverseRelation[TicketClock]
    unit_links: fields.ReverseRelation[TicketUnit]
    # The earliest due time of the ticket's running clocks, mirrored for "overdue" lists.
    next_due_at = fields.DatetimeField(null=True, db_index=True)
    version = fields.IntField(default=1)
    # The ticket's id on the platform it was imported from (python main.py import-history):
    # importing the same export again finds it and adds nothing.
    external_id = fields.CharField(max_length=64, null=True, unique=True)
    # The switch's id of the call this ticket was taken on (CTI), for the call log.
    call_id = fields.CharField(max_length=250, null=True)

    class Meta:
        table = "ticket"
        indexes = (
            ("status", "lead_unit_id"),
            ("lead_unit_id", "created_at"),
            ("anonymised_at", "closed_at"),
            # A period's volumes (dashboard, trend chart: hotline.services.rates) read from the
            # index alone: a month of a 1,000,000-ticket year is 83,000 wide rows otherwise.
            ("created_at", "status", "channel", "kind", "category", "district", "street"),
            # Similar tickets (hotline.services.similar): the recent tickets of one street.
            ("street", "created_at"),
            # Overdue work (hotline.services.overdue): only tickets with a running clock, each
            # entry carrying what the per-unit counts need, in the order the list is shown.
            WhereIndex(
                fields=("next_due_at", "id", "lead_unit_id", "status"),
                name="ticket_overdue",
                where=OVERDUE_CANDIDATES,
            ),
        )


class Call(Model):
    """One telephone call as the switch (PBX) reported it through the CTI push API.

    `newCall` creates it (ringing), `answer` names who took it, `hangup` ends it with its cause:
    a call hung up before anyone answered is a missed call, waiting in the call log until an
    operator calls back. Offered, answered and waiting times make the 接通率 figures.
    """

    id = fields.BigIntField(primary_key=True)
    call_id = fields.CharField(max_length=250, unique=True)
    direction = fields.CharField(max_length=3)  # in / out
    from_number = fields.CharField(max_length=64, default="")
    to_number = fields.CharField(max_length=64, default="")
    queue = fields.CharField(max_length=64, default="")
    user_names: Any = fields.JSONField(default=list)  # user[] as the switch sent it
    state = fields.CharField(max_length=16)  # ringing / answered / missed / ended
    cause = fields.CharField(max_length=32, default="")
    answered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="answered_calls", null=True, on_delete=fields.SET_NULL
    )
    answered_by_id: int | None
    started_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True, db_index=True)
    ended_at = fields.DatetimeField(null=True)
    # A missed call an operator returned: who and when (the call log's 回拨).
    called_back_at = fields.DatetimeField(null=True)
    called_back_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="returned_calls", null=True, on_delete=fields.SET_NULL
    )
    called_back_by_id: int | None

    class Meta:
        table = "phone_call"
        indexes = (("answered_by_id", "answered_at"),)


class TicketUnit(Model):
    """A unit's part in a ticket: lead (主办) or assisting (协办); inactive after 改派."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="unit_links", on_delete=fields.CASCADE
    )
    ticket_id: int
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="ticket_links", on_delete=fields.RESTRICT
    )
    unit_id: int
    role = fields.CharField(max_length=8)  # "lead" | "assist" | "sub" (下派 to a descendant)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    # 协办时限 of an assisting unit, or the internal deadline its parent set on a 下派.
    due_at = fields.DatetimeField(null=True)
    limit = fields.CharField(max_length=16, default="", db_default="")
    # A 下派's stage (hotline.domain.hierarchy.SubState); "" for lead and assisting links.
    state = fields.CharField(max_length=12, default="", db_default="")
    # The first 协办意见, or the latest 下派 answer upward; what it said and (协办) whether
    # the unit's part is done.
    answered_at = fields.DatetimeField(null=True)
    text = fields.TextField(null=True)
    done = fields.BooleanField(default=False, db_default=False)
    # The unit that passed the ticket down (a 下派's parent); NULL otherwise.
    parent_unit_id = fields.IntField(null=True)
    # The sweeper warns and escalates a 协办/下派 deadline once each, like a ticket clock:
    # the warning point (warn_ratio of the way to due_at) and whether each was sent.
    warn_at = fields.DatetimeField(null=True)
    warned = fields.BooleanField(default=False, db_default=False)
    breached = fields.BooleanField(default=False, db_default=False)
    # A copy of what the unit's worklist selects and sorts on (hotline.domain.worklist),
    # rewritten after every action, so a unit's lists read its own links and nothing else.
    status = fields.CharField(max_length=20, default="", db_default="")
    next_due_at = fields.DatetimeField(null=True)
    ticket_created_at = fields.DatetimeField(null=True)
    supervised = fields.BooleanField(default=False, db_default=False)
    reopened = fields.BooleanField(default=False, db_default=False)
    answered = fields.BooleanField(default=False, db_default=False)
    # When the copy was last rewritten: the workbench's poll answers 204 while a unit's
    # newest change is the one it already shows.
    changed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket_unit"
        # The last two serve the 协办/下派 figures of a period (hotline.services.hierarchy_rates):
        # one unit's (its workbench) and every unit's, without reading the whole history.
        indexes = (
            ("unit_id", "active", "ticket_id"),
            ("unit_id", "role", "created_at"),
            # Covering: the period's counts per unit are read from the index alone.
            ("role", "created_at", "unit_id", "due_at", "answered_at"),
            # A ticket's links (every prefetch of a ticket, the relink of 改派): without it
            # PostgreSQL scans the whole table for each ticket opened.
            ("ticket_id", "active"),
            # The sweeper's look-ups of 协办/下派 deadlines not yet escalated.
            ("active", "breached", "due_at"),
            ("active", "warned", "warn_at"),
            # The workbench's groups: one status of the unit's current links, soonest due first.
            WhereIndex(
                fields=("unit_id", "status", "role", "next_due_at"),
                name="ticket_unit_work",
                where=WORK_LINK,
            ),
            # The worklist API: the unit's current links, newest ticket first.
            WhereIndex(
                fields=("unit_id", "ticket_created_at", "ticket_id", "status"),
                name="ticket_unit_recent",
                where=WORK_LINK,
            ),
            ("unit_id", "changed_at"),
            # The marked few (督办, 重办退回, 申请已答复), found without walking the rest.
            WhereIndex(
                fields=("unit_id", "status", "next_due_at"),
                name="ticket_unit_marked",
                where=MARKED_LINK,
            ),
            # The 下派 answered to a parent unit: without it SQLite walked every current link
            # of every unit for the workbench's 待审核 group (1.4 s at 1,000,000 tickets).
            WhereIndex(
                fields=("parent_unit_id",), name="ticket_unit_sub_replied", where=SUB_REPLIED
            ),
        )


class TicketEvent(Model):
    """One row of the append-only event log; never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="events", on_delete=fields.RESTRICT
    )
    ticket_id: int
    action = fields.CharField(max_length=24)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="events", null=True, on_delete=fields.RESTRICT
    )
    actor_id: int | None
    actor_name = fields.CharField(max_length=64, default="")
    actor_role = fields.CharField(max_length=16)
    actor_unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="events", null=True, on_delete=fields.RESTRICT
    )
    actor_unit_id: int | None
    from_status = fields.CharField(max_length=24, null=True)
    to_status = fields.CharField(max_length=24)
    payload: Any = fields.JSONField(default=dict)
    public = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "ticket_event"
        indexes = (("ticket_id", "id"), ("action", "created_at"))


class TicketClock(Model):
    """One SLA clock of a ticket (receipt / mediation / feedback) with its stored due time."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="clocks", on_delete=fields.CASCADE
    )
    ticket_id: int
    kind = fields.CharField(max_length=16)
    generation = fields.IntField(default=1)
    current = fields.BooleanField(default=True)
    # Current and not yet met: the only clocks the sweeper looks at. A flag of its own keeps
    # the sweeper's look-ups on a small index however long the history grows. The database
    # default lets migration 0002 add the column NOT NULL to a table that already has rows.
    is_open = fields.BooleanField(default=True, db_default=True)
    state = fields.CharField(max_length=16)
    limit = fields.CharField(max_length=16)
    started_at = fields.DatetimeField()
    due_at = fields.DatetimeField(null=True, db_index=True)
    warn_at = fields.DatetimeField(null=True, db_index=True)
    provisional = fields.BooleanField(default=False)
    warned = fields.BooleanField(default=False)
    breached = fields.BooleanField(default=False)
    met_at = fields.DatetimeField(null=True)
    detail: Any = fields.JSONField(default=dict)

    class Meta:
        table = "ticket_clock"
        indexes = (
            ("is_open", "breached", "due_at"),
            ("is_open", "warned", "warn_at"),
            ("ticket_id", "kind", "current"),
            # The sweeper's look-ups: only running clocks not yet escalated, so a sweep reads
            # a few entries however many million clocks history holds.
            WhereIndex(fields=("due_at", "id"), name="ticket_clock_breach_due", where=NOT_BREACHED),
            WhereIndex(fields=("warn_at", "id"), name="ticket_clock_warning_due", where=NOT_WARNED),
            # The daily digest: open clocks by id range, with what it needs, from the index.
            WhereIndex(
                fields=("id", "due_at", "ticket_id"), name="ticket_clock_open", where=OPEN_CLOCK
            ),
        )


class RateAssignment(Model):
    """One 派单/改派 and what it adds to its unit's audited counts (hotline.reporting.unit_rates).

    Derived from the event log and met clocks by `unit_rates.ticket_rate_rows`; the write
    path refreshes a ticket's rows in the action's transaction, `python main.py
    rebuild-rates` recomputes them all. The 0/1 count columns are what the assignment
    adds (a merged repeat adds only its reply), so a period's figures are plain sums.
    """

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="rate_assignments", on_delete=fields.CASCADE
    )
    ticket_id: int
    ordinal = fields.SmallIntField()  # the ticket's n-th 派单/改派 event
    unit = fields.CharField(max_length=32)  # the unit code named by the 派单/改派
    dispatched_at = fields.DatetimeField()
    merged = fields.BooleanField(default=False)
    dispatched = fields.SmallIntField(default=0)
    signed = fields.SmallIntField(default=0)
    signed_on_time = fields.SmallIntField(default=0)
    disputed = fields.SmallIntField(default=0)
    extended = fields.SmallIntField(default=0)
    replied = fields.SmallIntField(default=0)
    replied_on_time = fields.SmallIntField(default=0)
    # While unanswered: the deadline it is late against (unit_rates.Assignment); a period's
    # overdue_unsigned / overdue_unreplied count the rows whose due time is before its end.
    unsigned_due_at = fields.DatetimeField(null=True)
    unreplied_due_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rate_assignment"
        unique_together = (("ticket_id", "ordinal"),)
        # Covering the period GROUP BY: the sums are read from the index alone, so a month
        # costs the same however many years the table holds.
        indexes = (
            (
                "dispatched_at",
                "unit",
                "dispatched",
                "signed",
                "signed_on_time",
                "disputed",
                "extended",
                "replied",
                "replied_on_time",
            ),
            # The overdue counts read the period's rows that carry a deadline (unanswered
            # ones, and those that lost the ticket after theirs passed): bounded by the
            # period, not by every deadline ever passed (rate_daily.overdue_counts).
            WhereIndex(
                fields=("dispatched_at", "unit", "unsigned_due_at"),
                name="rate_assignment_unsigned",
                where=UNSIGNED_DUE,
            ),
            WhereIndex(
                fields=("dispatched_at", "unit", "unreplied_due_at"),
                name="rate_assignment_unreplied",
                where=UNREPLIED_DUE,
            ),
        )


class RateCallback(Model):
    """One 回访 and what it adds to the counts of the unit that held the ticket then."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="rate_callbacks", on_delete=fields.CASCADE
    )
    ticket_id: int
    ordinal = fields.SmallIntField()  # the ticket's n-th 回访 event
    unit = fields.CharField(max_length=32)
    called_at = fields.DatetimeField()
    satisfaction = fields.CharField(max_length=8, null=True)
    contacted = fields.SmallIntField(default=0)
    solved = fields.SmallIntField(default=0)
    satisfied = fields.SmallIntField(default=0)
    basically_satisfied = fields.SmallIntField(default=0)
    unsatisfied = fields.SmallIntField(default=0)
    reopened = fields.SmallIntField(default=0)

    class Meta:
        table = "rate_callback"
        unique_together = (("ticket_id", "ordinal"),)
        indexes = (
            (
                "called_at",
                "unit",
                "contacted",
                "solved",
                "satisfied",
                "basically_satisfied",
                "unsatisfied",
                "reopened",
            ),
        )


class JobRun(Model):
    """A periodic job that must run once per day across all workers (e.g. the digest).

    The row is the claim, committed before the work starts: a worker that fails (or dies)
    leaves it unfinished, and another may claim it again after a pause, a bounded number of
    times (`hotline.services.digest`), instead of the whole job rolling back and starting
    over every minute.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32)
    day = fields.CharField(max_length=8)
    created_at = fields.DatetimeField()
    attempts = fields.SmallIntField(default=1, db_default=1)
    attempted_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=500, default="", db_default="")

    class Meta:
        table = "job_run"
        unique_together = (("name", "day"),)


class IdempotencyKey(Model):
    """A request a client may retry: the key it sent and the ticket the first attempt made.

    Written in the same transaction as the change, so a retry after a dropped connection
    finds either nothing (the first attempt rolled back) or the finished result.
    """

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=64)  # who may reuse the key: a user, a channel
    key = fields.CharField(max_length=128)
    fingerprint = fields.CharField(max_length=64)  # of the request: same key, other body → 422
    ticket_number = fields.CharField(max_length=20)
    action = fields.CharField(max_length=24)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("scope", "key"),)


class WeChatNonce(Model):
    """A (timestamp, nonce) pair of a signed /wechat request, shared by every web worker.

    A signature covers only the token, timestamp and nonce: a pair seen once is refused on any
    other request until `fresh` would refuse its timestamp anyway (`expires_at`, then purged).
    """

    key = fields.CharField(max_length=64, primary_key=True)  # sha256 of timestamp and nonce
    request = fields.CharField(max_length=64)  # sha256 of the request: WeChat's retry repeats it
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "wechat_nonce"


class Open311Token(Model):
    """A token handed to an Open311 client at POST /requests, answered by GET /tokens/{token}."""

    token = fields.CharField(max_length=64, primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="open311_tokens", on_delete=fields.CASCADE
    )
    ticket_id: int
    # The configured name of the api_key that asked (OPEN311_API_KEYS), for the audit trail.
    client = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "open311_token"


class RateDaily(Model):
    """A unit's rate counts of one local (Asia/Shanghai) day: the sums of its assignment rows
    dispatched and callback rows called back that day.

    Written with the rate rows (the same transaction adds the change of a ticket's rows) and
    rebuilt by `rebuild-rates`, so a period's figures read one row per unit and day however
    long the history grows (`hotline.services.rate_rows`).
    """

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    unit = fields.CharField(max_length=32)
    dispatched = fields.IntField(default=0)
    signed = fields.IntField(default=0)
    signed_on_time = fields.IntField(default=0)
    disputed = fields.IntField(default=0)
    extended = fields.IntField(default=0)
    replied = fields.IntField(default=0)
    replied_on_time = fields.IntField(default=0)
    callbacks = fields.IntField(default=0)
    contacted = fields.IntField(default=0)
    solved = fields.IntField(default=0)
    satisfied = fields.IntField(default=0)
    basically_satisfied = fields.IntField(default=0)
    unsatisfied = fields.IntField(default=0)
    reopened = fields.IntField(default=0)

    class Meta:
        table = "rate_daily"
        unique_together = (("day", "unit"),)


class AssessmentMonth(Model):
    """A month's 考核 as a supervisor confirmed it: the stored figures stay while `locked`.

    Reopening (an admin, with a reason) clears `locked`; every lock and reopen is also an
    `AssessmentLog` row.
    """

    id = fields.IntField(primary_key=True)
    month = fields.CharField(max_length=7, unique=True)  # "2026-11"
    locked = fields.BooleanField(default=True)
    figures: Any = fields.JSONField(default=dict)  # the assessment answer as confirmed
    locked_at = fields.DatetimeField()
    locked_by = fields.CharField(max_length=64)

    class Meta:
        table = "assessment_month"


class AssessmentLog(Model):
    """One lock or reopen of a month's 考核: who, when, why."""

    id = fields.IntField(primary_key=True)
    month = fields.CharField(max_length=7, db_index=True)
    action = fields.CharField(max_length=16)  # lock / reopen
    actor = fields.CharField(max_length=64)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "assessment_log"


class RadarAlert(Model):
    """A burst the radar raised (热点预警): one row per cluster, so each alerts once.

    The unique `cluster_id` is the claim: of several sweepers seeing the same burst, the one
    whose insert succeeds queues the mail in the same transaction; the others skip it.
    `members` are the ticket numbers at alert time (a later cluster sharing most of them is
    the same burst, `hotline.domain.radar.same_cluster`).
    """

    id = fields.IntField(primary_key=True)
    cluster_id = fields.CharField(max_length=32, unique=True)
    title = fields.CharField(max_length=200)
    place = fields.CharField(max_length=64, default="")
    category = fields.CharField(max_length=32, default="")
    count = fields.IntField()
    heat = fields.FloatField()
    growth = fields.FloatField()
    members: Any = fields.JSONField(default=list)
    first_at = fields.DatetimeField()
    last_at = fields.DatetimeField()
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "radar_alert"


class RadarTerms(Model):
    """What the radar read of one ticket, kept so no window segments it again (issue #20).

    Segmenting a ticket's text is the radar's costliest step; the first window that sees a
    ticket (the sweeper's pass, a page view, `main.py radar`) stores its key-term tokens and
    its gazetteer place here. `sig` is a hash of everything they were computed from (the
    words the radar may read, the address, the tokenizer's and the gazetteer's data): a row
    whose `sig` differs from the ticket's now is stale and is computed again. Not a foreign
    key, so the intake never waits on it; rows are written insert-or-update by whichever
    process saw the ticket first.
    """

    ticket_id = fields.IntField(primary_key=True, generated=False)
    sig = fields.CharField(max_length=16)
    place = fields.CharField(max_length=64, default="")
    # Tokens separated by U+001F (a word never holds it); only those a key term can be.
    tokens = fields.TextField(default="")

    class Meta:
        table = "radar_terms"


class RadarSnapshot(Model):
    """The radar's default window as the background worker last computed it (issue #20).

    A 24-hour window on a busy day takes many seconds to compute, so the page and the API
    read this row instead; every web process and machine sees the same. One row per window
    kind (`name`, "default"). `claimed_until`/`claimed_by` are the claim: of several
    sweepers, the one whose conditional UPDATE takes the row computes; a claim not released
    (its worker died) lapses at `claimed_until`.
    """

    name = fields.CharField(max_length=16, primary_key=True)
    window_from = fields.DatetimeField(null=True)
    window_to = fields.DatetimeField(null=True)  # the window's end: when it was computed
    seconds = fields.FloatField(default=0)  # how long the computation took
    tickets = fields.IntField(default=0)
    clusters: Any = fields.JSONField(default=list)  # cluster_json of every cluster, hottest first
    runs = fields.IntField(default=0)  # computations stored so far
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "radar_snapshot"


class KbEntry(Model):
    """A knowledge-base (知识库) entry: a question people ask and the answer operators give.

    Never deleted: an entry that no longer holds is set expired (or its valid_to passes), so
    the tickets that record it keep pointing at what was said. The text index is `kb_search`
    (hotline.services.knowledge_search); `changed_at` moves on every edit of the text, which
    tells each worker's in-memory suggestion index that it is stale.
    """

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    questions: Any = fields.JSONField(default=list)  # other ways callers ask it
    answer = fields.TextField()
    category = fields.CharField(max_length=32, null=True)
    unit_code = fields.CharField(max_length=32, default="")  # the responsible unit, optional
    source_name = fields.CharField(max_length=200, default="")  # the policy document
    source_url = fields.CharField(max_length=500, default="")
    valid_from = fields.DateField(null=True)  # local (Asia/Shanghai) days, inclusive
    valid_to = fields.DateField(null=True)
    status = fields.CharField(max_length=12)  # draft / published / expired
    use_count = fields.IntField(default=0)
    last_used_at = fields.DatetimeField(null=True)
    # The ticket whose unit reply this entry was proposed from (「建议加入知识库」).
    proposed_from = fields.CharField(max_length=20, null=True)
    created_at = fields.DatetimeField()
    created_by = fields.CharField(max_length=64)
    changed_at = fields.DatetimeField(db_index=True)
    changed_by = fields.CharField(max_length=64)
    version = fields.IntField(default=1)  # guards an edit against another made meanwhile

    class Meta:
        table = "kb_entry"
        indexes = (("status", "id"),)


class KbHistory(Model):
    """One change of a knowledge-base entry: who, when, and the fields before and after."""

    id = fields.BigIntField(primary_key=True)
    entry: fields.ForeignKeyRelation[KbEntry] = fields.ForeignKeyField(
        "models.KbEntry", related_name="history", on_delete=fields.RESTRICT
    )
    entry_id: int
    action = fields.CharField(max_length=16)  # create / update / import / propose
    actor = fields.CharField(max_length=64)
    before: Any = fields.JSONField(default=dict)  # only the fields that changed
    after: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "kb_history"
        indexes = (("entry_id", "id"),)


class SimilarHold(Model):
    """A new ticket held as a likely repeat (疑似重复): not dispatched until an operator merges
    it (并单) or releases it (不是重复). `candidates` are the open tickets it resembled, as
    [{number, score, reason}] at the time; the queue shows holds whose ticket is still 待派单.
    """

    id = fields.IntField(primary_key=True)
    ticket_id = fields.IntField(unique=True)
    candidates: Any = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    released_at = fields.DatetimeField(null=True)
    released_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "similar_hold"


class VolumeDaily(Model):
    """Tickets received on one local (Asia/Shanghai) day, counted along one facet of the
    volume card: facet channel / kind / category / district (`name` is the value, '' for none)
    or street (`name` the district, `street` the street). `received` leaves merged repeats out;
    `merged` counts them.

    One row per day and value a card lists, so a month reads a few hundred rows however many
    tickets it had. Kept in step by triggers on `ticket` (every insert, delete and change of
    created_at, status, channel, kind, category, district or street: the change lands in the
    statement that makes it) and rebuilt by `rebuild-rates` (`hotline.services.volume_daily`).
    """

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    facet = fields.CharField(max_length=16)
    name = fields.CharField(max_length=64)
    street = fields.CharField(max_length=64, default="")
    received = fields.IntField(default=0)
    merged = fields.IntField(default=0)

    class Meta:
        table = "volume_daily"
        unique_together = (("day", "facet", "name", "street"),)
