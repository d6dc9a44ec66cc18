"""Console accounts: creating, listing, disabling, checking a password, and login throttling."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from storage.models import LoginAttempt, Site, User

ROLES = ("admin", "coordinator")
MAX_FAILURES = 5  # per name and address, within WINDOW
MAX_FAILURES_PER_ADDRESS = 20  # whatever names are tried
WINDOW = timedelta(minutes=15)
# Compared against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = generate_password_hash("not a password")


class UserError(ValueError):
    pass


def create(
    session: Session,
    username: str,
    password: str,
    role: str,
    sites: list[str],
    contacts: bool,
    now: datetime,
) -> User:
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise UserError("the user name must be 1 to 64 characters")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise UserError("the password must have at least 10 characters")
    known = set(session.scalars(select(Site.prefix)))
    unknown = [s for s in sites if s not in known]
    if unknown:
        raise UserError(f"unknown site prefix: {', '.join(unknown)}")
    if role == "coordinator" and not sites:
        raise UserError("a coordinator needs at least one site (--site PRE)")
    if session.scalars(select(User).where(User.username == username)).first():
        raise UserError(f"user {username!r} exists already")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),  # scrypt, werkzeug's default KDF
        role=role,
        sites=sorted(set(sites)),
        contacts=contacts or role == "admin",
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def by_username(session: Session, name: str) -> User | None:
    """The account with this name, active or not (names are stored stripped and lower case)."""
    return session.scalars(select(User).where(User.username == name.strip().lower())).first()


def set_active(session: Session, username: str, active: bool) -> bool:
    user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        return False
    user.active = active
    return True


def throttled(session: Session, username: str, ip: str, now: datetime) -> bool:
    """Too many failed logins lately: for this name from this address, or from this address at
    all. Not for the name alone, or anyone could lock the admin out from anywhere."""
    since = now - WINDOW
    name, ip = username.strip().lower()[:64], ip[:64]
    recent = (LoginAttempt.created_at >= since, LoginAttempt.ok.is_(False), LoginAttempt.ip == ip)
    pair = session.scalar(select(func.count(LoginAttempt.id)).where(*recent, LoginAttempt.username == name))
    address = session.scalar(select(func.count(LoginAttempt.id)).where(*recent))
    return (pair or 0) >= MAX_FAILURES or (address or 0) >= MAX_FAILURES_PER_ADDRESS


def authenticate(session: Session, username: str, password: str, ip: str, now: datetime) -> User | None:
    name = username.strip().lower()[:64]
    user = session.scalars(select(User).where(User.username == name)).first()
    ok = check_password_hash(user.password_hash if user else _DUMMY, password) and bool(user and user.active)
    session.add(LoginAttempt(username=name, ip=ip[:64], ok=ok, created_at=now))
    if not ok or user is None:
        return None
    user.last_login_at = now
    return user


def get(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def visible_sites(session: Session, user: User) -> list[Site]:
    """The sites an account may see: all for an admin, its own for a coordinator."""
    stmt = select(Site).order_by(Site.position, Site.id)
    if user.role != "admin":
        stmt = stmt.where(Site.prefix.in_(user.sites or []))
    return list(session.scalars(stmt))
