"""Console accounts: creating, listing, disabling, checking and changing a password, login
throttling, and the session version that lets logout, a password change or disabling an account
end every session made before."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from storage.models import LoginAttempt, Site, User

ROLES = ("admin", "coordinator")
MAX_FAILURES = 5  # per name and address, within WINDOW
MAX_FAILURES_PER_ADDRESS = 20  # whatever names are tried
WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10
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
    _check_password(password)
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def by_username(session: Session, name: str) -> User | None:
    """The account with this name, active or not (names are stored stripped and lower case)."""
    return session.scalars(select(User).where(User.username == name.strip().lower())).first()


def set_active(session: Session, username: str, active: bool) -> bool:
    """Disable or enable an account; disabling ends its sessions for good (enabling it again
    does not bring them back)."""
    user = by_username(session, username)
    if user is None:
        return False
    user.active = active
    if not active:
        _bump(session, user.id)
    return True


def set_password(session: Session, username: str, password: str) -> User:
    """A new password for an account; every session made with the old one ends."""
    user = by_username(session, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    _bump(session, user.id)
    return user


def end_sessions(session: Session, user_id: int, version: int | None) -> None:
    """Logout: every session of the account ends, a copy of this one's cookie included. Only a
    session still current may do this (a stale cookie posting a logout changes nothing)."""
    session.execute(
        update(User)
        .where(User.id == user_id, User.session_version == version)
        .values(session_version=User.session_version + 1)
    )


def _bump(session: Session, user_id: int) -> None:
    session.execute(update(User).where(User.id == user_id).values(session_version=User.session_version + 1))


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


def current(session: Session, user_id: int, version: int | None) -> User | None:
    """The account of a console session, if it is active and the session was made since its
    last logout, password change or disabling (`version` is what the session was given)."""
    user = get(session, user_id)
    return user if user is not None and version == user.session_version else None


def visible_sites(session: Session, user: User) -> list[Site]:
    """The sites an account may see: all for an admin, its own for a coordinator."""
    stmt = select(Site).order_by(Site.position, Site.id)
    if user.role != "admin":
        stmt = stmt.where(Site.prefix.in_(user.sites or []))
    return list(session.scalars(stmt))
