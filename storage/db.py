"""Engine and sessions for SQLite (embedded default) and PostgreSQL, plus migrations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from storage.directory import Directory

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
LOCK_WAIT_SECONDS = 10
T = TypeVar("T")
# The database is away (restarting, unreachable, a lock held too long): a message that meets one
# of these can wait in the spool; any other error is a bug and must not be replayed forever.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def _no_rows(record: logging.LogRecord) -> bool:
    """SQLAlchemy logs every result row at DEBUG (names, numbers, NIK): statements (INFO) only."""
    return record.levelno > logging.DEBUG


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_no_rows)


def make_engine(url: str) -> Engine:
    """`hide_parameters`: SQL errors must not copy message texts or numbers into the logs."""
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": LOCK_WAIT_SECONDS, "check_same_thread": False}, hide_parameters=True
        )
        _serialise_sqlite_writes(engine)
        return engine
    # A lock wait longer than this fails (and the webhook spools the message) well inside the
    # 15 seconds Twilio waits for an answer; connecting gives up sooner still.
    options = f"-c lock_timeout={LOCK_WAIT_SECONDS * 1000}"
    # No pool_pre_ping (a round trip before every transaction): a connection found dead drops
    # every pooled connection as old as it, and the work in flight runs again (`reconnecting`).
    return create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_timeout=LOCK_WAIT_SECONDS,
        hide_parameters=True,
        connect_args={"connect_timeout": 3, "options": options},
    )


def _serialise_sqlite_writes(engine: Engine) -> None:
    """SQLite has no SELECT ... FOR UPDATE; BEGIN IMMEDIATE takes the write lock up front, so
    two messages from one sender cannot interleave their read-modify-write of a conversation."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def reconnecting(work: Callable[[], T]) -> T:
    """`work`, once more on a fresh connection if its pooled one turned out dead (the database
    restarted since): what pool_pre_ping would have found, paid only when it happens. `work` must
    be one unit of work that is safe to repeat: rolled back, or committed and deduplicated (an
    inbound message by its MessageSid, a delivery status by its message). A COMMIT that went
    through but whose answer was lost leaves its outbox rows unpushed: the sweeper pushes them
    within a minute (late, not lost)."""
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return work()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.directory = Directory(url, self.sessions)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """Whether the database answers (the health check)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command  # here: alembic and mako cost a web worker ~10 MB

        with self.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg
