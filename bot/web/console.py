"""The coordinators' web console: log in, the cases of their sites, one case as a chat with its
timeline and actions, a report taken for a resident at the posko or on the phone ("Laporan baru",
a form drawn from the flows), members on duty, delivery problems, exports and monthly figures.

Server-rendered (Jinja), readable on a phone, works offline (no CDN). Every form carries a CSRF
token (Flask-WTF); a coordinator only ever sees the sites of their account, and a case of
another site answers 404 as if it did not exist. Case views and exports are audited.
"""

from __future__ import annotations

import functools
import io
import re
import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from sqlalchemy.orm import Session

from bot.domain import caselife, duty, followup, i18n, walkin
from bot.domain.members import answer_text, flag_labels, institution
from bot.domain.service import places_of
from bot.render import export as exporter
from bot.render import redact, report
from bot.runtime import Hotline
from bot.web import walkin_form
from flows import CATEGORIES, ON_BEHALF
from flows.common import NAME_STEP
from flows.members import CONSOLE_FIELDS, FIELDS, INSTITUTIONS
from storage import audit, casebook, casestate, delivery, roster, sitetime
from storage import users as accounts
from storage.cases import erase_case, walkin_by_token
from storage.db import UNAVAILABLE
from storage.directory import Snapshot
from storage.figures import monthly
from storage.models import Case, Contact, Member, Site
from storage.transcripts import Filters

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # as CONTROL, but lines and tabs stay
CODE = re.compile(r"[A-Za-z0-9-]{1,16}")
ONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # the "Laporan baru" form's one-time token
FORMATS = ("csv", "xlsx", "jsonl")
SESSION_HOURS = 8
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",  # the SVG charts too: presentation attributes, no style=
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)


def _hotline() -> Hotline:
    return current_app.extensions["hotline"]


def t(key: str, **params: Any) -> str:
    """A console text in the viewer's language (Babel catalogs, keys "console.*")."""
    return i18n.text(key, session.get("locale", "id"), **params)


@bp.app_template_global("t")
def _t(key: str, **params: Any) -> str:
    return t(key, **params)


@bp.app_template_global("channel_label")
def _channel_label(channel: str | None) -> str:
    """Where a case came in: the resident wrote (WhatsApp, SMS) or a member took it for them."""
    labels = {
        "whatsapp": t("console.channel.whatsapp"),
        "sms": t("console.channel.sms"),
        "posko": t("console.channel.posko"),
        "telepon": t("console.channel.telepon"),
        "console": t("console.channel.console"),  # `hotline chat`, the terminal's practice chat
    }
    return labels.get(channel or "", channel or "-")


@bp.app_template_global("taken_by")
def _taken_by(who: str) -> str:
    """Who heard a resident agree aloud: "user:koord" (the console), "member:Ani" (WARGA)."""
    kind, _, name = who.partition(":")
    if kind == "user":
        return t("console.taker.user", name=name)
    if kind == "member":
        return t("console.taker.member", name=name) if name else t("console.party.member")
    return who


def _unavailable(exc: Exception) -> Response:
    """The database away, or a pooled connection found dead after a restart (the pool has let
    them all go by now): a page that says to reload, not a 500."""
    return Response(t("console.unavailable") + "\n", status=503, mimetype="text/plain")


for _kind in UNAVAILABLE:
    bp.register_error_handler(_kind, _unavailable)


@bp.app_template_filter("local")
def _local(moment: datetime | None, tz: str) -> str:
    """A moment on the clock of the site it belongs to (the zone is always the site's own)."""
    return sitetime.local(moment, tz).strftime("%d-%m-%Y %H:%M") if moment else "-"


@bp.after_app_request
def _private(response: Response) -> Response:
    """Console pages hold personal data: no script or style but our own files, not framed
    (clickjacking), not cached on a shared PC, no URL (case codes) leaked to another site, and
    over HTTPS only once seen there. Every response under /console, 404s and redirects too."""
    if request.path != bp.url_prefix and not request.path.startswith(f"{bp.url_prefix}/"):
        return response
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cache-Control"] = "no-store"
    if str(current_app.config.get("PUBLIC_URL") or "").startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started = session.get("since", 0)
        if _now().timestamp() - started > SESSION_HOURS * 3600:  # absolute, however active
            session.pop("uid", None)
        uid = session.get("uid")
        with _hotline().work() as s:
            user = accounts.current(s, uid, session.get("ver")) if uid else None
            if user is None:  # never logged in; or logged out, password changed or disabled since
                session.pop("uid", None)
                session.pop("ver", None)
                return redirect(url_for("console.login", next=request.full_path))
            g.user = user
            g.sites = accounts.visible_sites(s, user)
        g.site_ids = [site.id for site in g.sites]
        return view(*args, **kwargs)

    return wrapped


def _audit(s: Session, action: str, **details: Any) -> None:
    audit.record(s, f"user:{g.user.username}", action, _now(), **details)


def _now() -> datetime:
    return _hotline().clock()


def _client_ip() -> str:
    # The socket's address, or with HOTLINE_TRUSTED_PROXIES the entry our nearest proxy added to
    # X-Forwarded-For (ProxyFix, app.py): never an entry the client wrote itself.
    return request.remote_addr or "?"


# -- log in and out ----------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("console/login.html")
    username = _arg("username")
    password = request.form.get("password", "")[:256]
    with _hotline().work() as s:
        if accounts.throttled(s, username, _client_ip(), _now()):
            flash(t("console.login.throttled"), "error")
            return render_template("console/login.html"), 429
        user = accounts.authenticate(s, username, password, _client_ip(), _now())
        uid, locale, version = (user.id, user.locale, user.session_version) if user else (None, None, None)
    if uid is None:
        flash(t("console.login.failed"), "error")
        return render_template("console/login.html"), 401
    session.clear()  # a fresh session: no fixation
    session.permanent = True
    session["uid"], session["locale"], session["since"] = uid, locale, _now().timestamp()
    session["ver"] = version  # checked on every request: logout and password changes raise it
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/console/") else url_for("console.cases"))


@bp.post("/logout")
def logout() -> Any:
    """Ends the session on the server too: every session of the account, a copied cookie
    included, is refused from now on."""
    uid = session.get("uid")
    if isinstance(uid, int):
        with _hotline().work() as s:
            accounts.end_sessions(s, uid, session.get("ver"))
    session.clear()
    return redirect(url_for("console.login"))


@bp.post("/lang")
def language() -> Any:
    if (locale := request.form.get("locale")) in i18n.LOCALES:
        session["locale"] = locale
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/console/") else url_for("console.cases"))


# -- cases -------------------------------------------------------------------------------------


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _arg_int(name: str) -> int | None:
    return _int(request.args.get(name, ""))


def _date(value: str) -> date | None:
    """A day the hotline can have data for; anything else is no filter rather than an error."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def _arg_date(name: str) -> date | None:
    return _date(request.args.get(name, ""))


def _text(name: str, limit: int = 2000) -> str:
    """A free-text form field (a note): control characters gone, lines kept."""
    return TEXT_CONTROL.sub("", request.form.get(name, "")).strip()[:limit]


def _values(form: Any, name: str, limit: int) -> tuple[str, ...]:
    """A repeated filter field, each value without control characters and of a sane length."""
    cleaned = (CONTROL.sub("", v)[:100] for v in form.getlist(name))
    return tuple(v for v in cleaned if v)[:limit]


def _arg(name: str, limit: int = 64) -> str:
    """A query or form value without control characters (PostgreSQL refuses NUL)."""
    value = request.values.get(name, "")
    return CONTROL.sub("", value)[:limit]


@bp.get("/")
@login_required
def home() -> Any:
    return redirect(url_for("console.cases"))


@bp.get("/cases")
@login_required
def cases() -> Any:
    urgent = {"1": True, "0": False}.get(request.args.get("urgent", ""))
    site = _arg("site") or None
    query = casebook.CaseQuery(
        site=site if site in {s.prefix for s in g.sites} else None,
        area=_arg_int("area"),
        category=_arg("category") or None,
        status=_arg("status") or None,
        urgent=urgent,
        code=_arg("code", 16),
        start=_arg_date("from"),
        end=_arg_date("to"),
        page=_arg_int("page") or 1,
    )
    with _hotline().work() as s:
        rows, total = casebook.list_cases(s, g.site_ids, query)
        areas = casebook.site_areas(s, g.site_ids)
        pages = max(1, -(-total // casebook.PER_PAGE))
        return render_template(
            "console/cases.html",
            rows=rows,
            total=total,
            query=query,
            pages=pages,
            areas=areas,
            categories=[f.name for f in CATEGORIES],
            statuses=casestate.STATES,
        )


def _case_or_404(s: Session, code: str) -> Case:
    if not CODE.fullmatch(code):  # not a code at all (PostgreSQL refuses a NUL in a query)
        abort(404)
    case = casebook.case_by_code(s, code, g.site_ids)
    if case is None:
        abort(404)
    return case


@bp.get("/cases/<code>")
@login_required
def case(code: str) -> Any:
    secret = current_app.config["SECRET_KEY"]
    with _hotline().work() as s:
        item = _case_or_404(s, code)
        messages = casebook.transcript(s, item.id)
        events = casebook.timeline(s, item.id)
        members = [m for m in casebook.site_members(s, [item.site_id]) if m.active]
        speakers = casebook.member_names(s, {m.member_id for m in messages if m.member_id})
        show = g.user.contacts
        resident = s.get(Contact, item.contact_id) if item.contact_id else None
        names = _names(item, resident)
        chat = [
            {
                "side": "left" if m.direction == "in" and m.party == "resident" else "right",
                "who": _speaker(m, speakers, item.contact_id, secret, show),
                "text": m.body if show else redact.redact(m.body, names),
                "time": m.created_at,
                "media": m.num_media,
                "status": m.status if m.direction == "out" and m.address else "",
            }
            for m in messages
        ]
        timeline = [
            {
                "kind": e.kind,
                "at": e.created_at,
                "who": e.data.get("member"),
                "to": e.data.get("to"),
                "result": _result_label(e.data),
                "note": e.data.get("note") if show else redact.redact(e.data.get("note") or "", names),
            }
            for e in events
        ]
        referrals = casestate.referrals(events)
        page = render_template(
            "console/case.html",
            case=item,
            chat=chat,
            events=timeline,
            phone=resident.phone if show and resident is not None else None,
            members=members,
            answers=_answer_rows(item, show, names),
            flags=flag_labels(item.flags, session.get("locale", "id")),
            resident=redact.pseudonym(item.contact_id, secret),
            institutions=list(INSTITUTIONS),
            tz=item.site.timezone,
            steps=_steps(item, events),
            referrals=referrals,
            referred_to=list(dict.fromkeys(r.to for r in referrals)),
            results=list(casestate.RESULTS),
            outcomes=list(casestate.OUTCOMES),
            guarded=bool(casestate.open_referrals(item, referrals)),
            erased=any(e.kind == "erased" for e in events),
        )
        _audit(s, "view_case", case=item.code)  # in the same transaction as the read
    return page


def _result_label(data: dict[str, Any]) -> str:
    """A check's result or a referral's outcome, as the timeline shows it."""
    if (result := data.get("result")) in casestate.RESULT_LABELS:
        return t(casestate.RESULT_LABELS[result])
    if (outcome := data.get("outcome")) in casestate.OUTCOME_LABELS:
        return t(casestate.OUTCOME_LABELS[outcome])
    return ""


def _steps(case: Case, events: list[Any]) -> list[dict[str, Any]]:
    """The case's steps (storage.casestate.STEPS) with when each was reached; a cancelled case
    ends where it stood, with its cancellation."""
    reached = casestate.reached(events, case.created_at)
    steps = [{"step": s, "label": t(f"console.step.{s}"), "at": reached.get(s)} for s in casestate.STEPS]
    if (cancelled := reached.get("cancelled")) is not None:
        steps.append({"step": "cancelled", "label": t(casestate.LABELS["cancelled"]), "at": cancelled})
    for step in steps:
        step["current"] = step["step"] == case.status
    return steps


def _speaker(m: Any, names: dict[int, str], contact_id: int | None, secret: str, show: bool) -> str:
    if m.direction == "in" and m.party == "resident":
        return t("console.party.resident") if show else redact.pseudonym(contact_id, secret)
    if m.direction == "in" and m.party == "member":
        return names.get(m.member_id, t("console.party.member"))
    return t("console.party.bot")


def _names(case: Any, resident: Contact | None) -> tuple[str, ...]:
    """The resident's names as they may appear in texts: given in the report or by WhatsApp."""
    found = [case.answers.get("name")]
    if resident is not None:
        found += [resident.name, resident.profile_name]
    return tuple(n for n in found if isinstance(n, str) and n.strip())


def _answer_rows(case: Case, show: bool, names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """The report's answers as the coordinator reads them, in their console language: each under
    its label, a choice as its option's label and yes/no as a word, hidden as `_hide` says."""
    locale = session.get("locale", "id")
    rows = []
    for key, value in case.answers.items():
        if value in (None, "", []):
            continue
        label = t(f"field.{key}") if key in (*FIELDS, *CONSOLE_FIELDS) else key
        text = answer_text(case.category, key, value, locale)
        rows.append((label, text if show else _hide(key, text, names)))
    return rows


def _hide(key: str, value: Any, names: tuple[str, ...]) -> Any:
    """Answers shown to a coordinator without the contacts grant: names gone, NIK masked."""
    if key == "name":
        return redact.NAME
    if key == "codeword":  # the resident's silent alarm: for the holder and the contacts grant only
        return "***"
    if isinstance(value, list):
        return [_hide(key, v, names) for v in value]
    return redact.redact(value, names) if isinstance(value, str) else value


def _act(code: str, action: Callable[[Session, Case], str | None]) -> Any:
    """Run one case action in one unit of work, then back to the case. A move the case's status
    does not allow (closing a closed case, from a stale page) changes nothing and says why."""
    try:
        with _hotline().work() as s:
            item = _case_or_404(s, code)
            problem = action(s, item)
    except casestate.IllegalMove as refused:
        problem = _not_now(refused.status)
    except casestate.OpenReferral as refused:
        problem = t("console.error.open_referral", orgs=", ".join(refused.institutions))
    except casestate.ReasonNeeded:
        problem = t("console.error.reason_needed")
    flash(problem or t("console.saved"), "error" if problem else "ok")
    return redirect(url_for("console.case", code=code))


def _not_now(status: str) -> str:
    if status in casestate.FINISHED:
        return t("console.error.closed")
    return t("console.error.not_now", status=t(casestate.LABELS.get(status, "unknown")))


def _actor() -> tuple[str, str]:
    return f"user:{g.user.username}", g.user.username


@bp.post("/cases/<code>/note")
@login_required
def note(code: str) -> Any:
    text = _text("note")

    def action(s: Session, item: Case) -> str | None:
        if not text:
            return t("console.error.empty")
        duty.note(s, item, _now(), *_actor(), text)
        return None

    return _act(code, action)


@bp.post("/cases/<code>/refer")
@login_required
def refer(code: str) -> Any:
    org = institution(_text("to", 200))
    text = _text("note")

    def action(s: Session, item: Case) -> str | None:
        if org is None:
            return t("console.error.institution")
        duty.refer(s, item, _now(), *_actor(), org, text)
        return None

    return _act(code, action)


@bp.post("/cases/<code>/verify")
@login_required
def verify(code: str) -> Any:
    """The check on the spot: found, or not found / a duplicate with a reason (the case ends)."""
    result = _arg("result")
    reason = _text("note")

    def action(s: Session, item: Case) -> str | None:
        if result not in casestate.RESULTS:
            return t("console.error.result")
        caselife.verify(s, item, _now(), *_actor(), result, reason)
        return None

    return _act(code, action)


@bp.post("/cases/<code>/outcome")
@login_required
def outcome(code: str) -> Any:
    """What became of one of the case's referrals."""
    org = institution(_text("to", 200))
    result = _arg("outcome")
    text = _text("note")

    def action(s: Session, item: Case) -> str | None:
        referral = caselife.referral_for(casestate.referrals_of(s, item), org) if org else None
        if referral is None or result not in casestate.OUTCOMES:
            return t("console.error.outcome")
        caselife.outcome(s, item, _now(), *_actor(), referral.to, result, text)
        return None

    return _act(code, action)


@bp.post("/cases/<code>/close")
@login_required
def close(code: str) -> Any:
    text = _text("note")

    def action(s: Session, item: Case) -> str | None:
        duty.close(s, item, _now(), *_actor(), text)
        return None

    return _act(code, action)


@bp.post("/cases/<code>/cancel")
@login_required
def cancel(code: str) -> Any:
    """Withdraw a report that needs no handling (a duplicate, a test, spam); the reason is kept."""
    text = _arg("note", 2000).strip()

    def action(s: Session, item: Case) -> str | None:
        if not text:
            return t("console.error.reason")
        duty.cancel(s, item, _now(), *_actor(), text)
        return None

    return _act(code, action)


@bp.post("/cases/<code>/erase")
@login_required
def erase(code: str) -> Any:
    """A resident's request to erase their report, made at the posko or on the phone (a resident
    without a phone cannot text HAPUS): its answers, texts and notes go, its figures stay
    (storage.cases.erase_case). Needs a reason and the box ticked; once per case."""
    reason = _text("reason", 500)
    confirmed = request.form.get("confirm") == "1"

    def action(s: Session, item: Case) -> str | None:
        if not reason:
            return t("console.error.reason")
        if not confirmed:
            return t("console.error.confirm_erase")
        if erase_case(s, item, _now(), _actor()[0], reason=reason) is None:
            return t("console.error.erased")
        return None

    return _act(code, action)


@bp.post("/cases/<code>/reassign")
@login_required
def reassign(code: str) -> Any:
    member_id = request.form.get("member", "")

    def action(s: Session, item: Case) -> str | None:
        member = s.get(Member, number) if (number := _int(member_id)) is not None else None
        if member is None or member.site_id != item.site_id or not member.active:
            return t("console.error.member")
        duty.reassign(s, _hotline(), item, member, _now(), f"user:{g.user.username}")
        return None

    return _act(code, action)


# -- a report taken for a resident ("Laporan baru") -------------------------------------------

WALKIN_CATEGORIES = {f.name: f for f in CATEGORIES}
# Each category's form, drawn once: the flows are fixed at import.
WALKIN_FIELDS = {f.name: walkin_form.fields(ON_BEHALF, f) for f in CATEGORIES}


@bp.route("/walkin", methods=["GET", "POST"])
@login_required
def walkin_report() -> Any:
    """A resident who came to the posko or phoned: the category first, then its questions as a
    form, read by the same engine as a member's WARGA (bot.domain.walkin). The case goes to the
    account's site (the one chosen, for an account with several)."""
    site = _walkin_site()
    flow = WALKIN_CATEGORIES.get(_arg("category"))
    if flow is None:
        asked = bool(request.values.get("category")) or request.method == "POST"
        if asked:
            flash(t("console.walkin.unknown_category"), "error")
        page = render_template("console/walkin_choose.html", site=site, categories=CATEGORIES)
        return page, 400 if asked else 200
    if request.method == "GET":
        return _walkin_page(site, flow, {}, {})
    return _walkin_submit(site, flow)


def _walkin_site() -> Site:
    """The site asked for among the account's, or its first; another site's is not found."""
    if not g.sites:
        abort(403)
    prefix = _arg("site", 8)
    site = next((s for s in g.sites if s.prefix == prefix), None) if prefix else g.sites[0]
    if site is None:
        abort(404)
    return site


def _walkin_page(
    site: Site, flow: Any, values: dict[str, Any], errors: dict[str, str], status: int = 200, once: str = ""
) -> Any:
    """The form of `flow`'s questions, filled with `values` and `errors` beside their fields.
    `once`: the form's one-time token (a new one unless the form comes back unsaved): a second
    post of it finds the case the first one made (`_walkin_submit`)."""
    fields = WALKIN_FIELDS[flow.name]
    starting = {s.name for s in ON_BEHALF.steps}
    areas = [a.name for a in _hotline().db.directory.current().places.get(site.id, ())]
    page = render_template(
        "console/walkin.html",
        site=site,
        flow=flow,
        start=[f for f in fields if f.name in starting],
        questions=[f for f in fields if f.name not in starting],
        areas=areas,
        values=values,
        errors=errors,
        general=[text for name, text in errors.items() if name not in {f.name for f in fields}],
        practice=request.form.get("practice") == "1",
        once=once or secrets.token_urlsafe(24),
        consent_text=walkin_form.plain(t(walkin_form.resident_consent())),
        ask=lambda key: t("console.walkin.name") if key == NAME_STEP.prompt else walkin_form.plain(t(key)),
    )
    return page, status


def _walkin_submit(site: Site, flow: Any) -> Any:
    """Run the answers through the flow; a case when they make a report, else the form again
    with what is wrong beside its field (400). The same form posted again (its one-time token)
    makes nothing new: back to the case its first post made."""
    values, errors = _walkin_values(WALKIN_FIELDS[flow.name])
    once = request.form.get("once", "")
    if not ONCE.fullmatch(once):  # a form from before the token, or tampered with: a fresh one
        once, errors = "", {**errors, "": t("console.walkin.stale")}
    code, said, again = None, [], False
    if not errors:
        directory = _hotline().db.directory.current()  # before the transaction, as the webhook
        with _hotline().work() as s:
            code = walkin_by_token(s, site.id, once)
            again = code is not None
            if not again:
                code, said, errors = _walkin_record(s, site, flow, values, once, directory)
    if code is None:
        flash(t("console.walkin.check"), "error")
        return _walkin_page(site, flow, values, errors, 400, once)
    if again:
        flash(t("console.walkin.again", code=code), "ok")
        return redirect(url_for("console.case", code=code))
    flash(t("console.walkin.saved", code=code), "ok")
    for key in said:
        flash(t("console.walkin.advice", text=walkin_form.plain(t(key))), "ok")
    return redirect(url_for("console.case", code=code))


def _walkin_record(
    s: Session, site: Site, flow: Any, values: dict[str, Any], once: str, directory: Snapshot
) -> tuple[str | None, list[str], dict[str, str]]:
    """(case code, advice to pass on, errors): the case of the answers, or what is wrong (a KK
    member's own number as the resident's among them, as WARGA refuses it)."""
    now = _now()
    places, members = places_of(directory, site.id), directory.members.get(site.id, {})
    filled = walkin.fill(flow.name, values, places, now, members=members)
    errors = {name: _walkin_hint(key) for name, key in filled.errors.items()}
    if filled.report is None or errors:  # ended without a report, and without saying why: check
        return None, [], errors or {"": t("console.walkin.check")}
    case = walkin.record(
        s,
        s.get_one(Site, site.id),
        filled.report,
        locale=i18n.DEFAULT_LOCALE,
        now=now,
        taken_by=f"user:{g.user.username}",
        practice=request.form.get("practice") == "1",
    )
    _audit(s, "walkin", case=case.code, site=site.prefix, once=once)
    return case.code, filled.said, {}


def _walkin_values(fields: list[walkin_form.Field]) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted answers by field as bot.domain.walkin reads them (several choices as a list,
    the consent box as yes or no), and the fields too long to be an answer."""
    form = request.form
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if field.kind == "checkboxes":
            values[field.name] = list(_values(form, field.name, len(field.options)))
        elif field.kind == "consent":
            values[field.name] = "yes" if form.get(field.name) == "yes" else "no"
        else:
            value = TEXT_CONTROL.sub("", form.get(field.name, "")).strip()
            if len(value) > field.limit:
                errors[field.name] = t("console.walkin.too_long", limit=field.limit)
            values[field.name] = value
    return values, errors


def _walkin_hint(key: str) -> str:
    """What is wrong with a field, as the form says it: the chat's "reply with a number" becomes
    a choice to make, a refused consent the box to tick; the rest as the resident reads it."""
    form_hints = {
        "hint.choice": t("console.walkin.hint.choice"),
        "hint.choices": t("console.walkin.hint.choices"),
        "hint.yes_no": t("console.walkin.hint.yes_no"),
        "hint.text": t("console.walkin.hint.text"),
        "hint.place": t("console.walkin.hint.place"),
        "hint.place_unknown": t("console.walkin.hint.place"),
        "hint.pick": t("console.walkin.hint.place"),
        "w.consent_declined": t("console.walkin.consent_missing"),
        "hint.member_phone": t("console.walkin.member_phone"),
    }
    return form_hints.get(key) or walkin_form.plain(t(key))


# -- members and delivery problems -------------------------------------------------------------


@bp.get("/members")
@login_required
def members() -> Any:
    now = _now()
    with _hotline().work() as s:
        people = casebook.site_members(s, g.site_ids)
        on = {m.id for site in g.sites for m in roster.on_duty(s, site, now)}
        return render_template("console/members.html", people=people, on=on)


@bp.get("/problems")
@login_required
def problems() -> Any:
    with _hotline().work() as s:
        found = [delivery.delivery_problems(s, site_id, now=_now()) for site_id in g.site_ids]
        failed = [m for p in found for m in p.messages]
        unreachable = [m for p in found for m in p.members]
        names = casebook.member_names(s, {m.member_id for m in failed if m.member_id})
        return render_template(
            "console/problems.html",
            failed=failed,
            unreachable=unreachable,
            names=names,
            mask=redact.mask_number,
            zones={site.id: site.timezone for site in g.sites},
        )


# -- exports and monthly figures ---------------------------------------------------------------


@bp.route("/export", methods=["GET", "POST"])
@login_required
def export() -> Any:
    with _hotline().work() as s:
        areas = casebook.site_areas(s, g.site_ids)
    if request.method == "GET":
        return render_template(
            "console/export.html",
            areas=areas,
            categories=[f.name for f in CATEGORIES],
            statuses=casestate.STATES,
            formats=FORMATS,
        )
    form = request.form
    fmt = form.get("format", "csv")
    allowed = {s.prefix for s in g.sites}
    if not allowed:  # an account that sees no site exports nothing (an empty filter means all)
        abort(403)
    chosen = tuple(p for p in form.getlist("site") if p in allowed) or tuple(sorted(allowed))
    include = form.get("contacts") == "1"
    if fmt not in FORMATS or (include and not g.user.contacts):
        abort(400)

    def day(name: str) -> date | None:
        return _date(form.get(name, ""))

    try:
        filters = _export_filters(form, chosen, day)
    except ValueError:  # a malformed code, or a start after the end
        flash(t("console.error.filters"), "error")
        return redirect(url_for("console.export"))
    body, mimetype, filename = exporter.export_response(
        _hotline().db,
        filters,
        fmt,
        actor=f"user:{g.user.username}",
        include_contacts=include,
        secret=current_app.config["SECRET_KEY"],
    )
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(stream_with_context(body), mimetype=mimetype, headers=headers)


def _export_filters(form: Any, sites: tuple[str, ...], day: Callable[[str], date | None]) -> Filters:
    return Filters(
        start=day("from"),
        end=day("to"),
        sites=sites,
        areas=_values(form, "area", 50),
        categories=_values(form, "category", 10),
        statuses=_values(form, "status", 10),
        codes=tuple(CONTROL.sub("", form.get("codes", "")).replace(",", " ").split())[:200],
        practice=form.get("practice") == "1",
    )


def _month_arg(tz: str) -> date:
    """The month asked for, or the site's current month."""
    raw = _arg("month", 7)
    try:
        year, month = (int(x) for x in raw.split("-"))
        first = date(year, month, 1)
        if EARLIEST <= first <= LATEST:
            return first
        raise ValueError(raw)
    except ValueError:
        today = sitetime.today(_now(), tz)
        return date(today.year, today.month, 1)


@bp.get("/figures")
@login_required
def figures() -> Any:
    prefix = (_arg("site") or g.sites[0].prefix) if g.sites else ""
    site = next((s for s in g.sites if s.prefix == prefix), None)
    if site is None:
        abort(404)
    month = _month_arg(site.timezone)
    fmt = request.args.get("format", "")
    hotline = _hotline()
    with hotline.work() as s:
        practice, days = request.args.get("practice") == "1", followup.configured_days(hotline.config)
        fig = monthly(s, prefix, month, practice=practice, now=hotline.clock(), follow_up_days=days)
        if fmt in ("csv", "xlsx"):
            _audit(s, "report", site=prefix, month=month.isoformat()[:7], format=fmt)
    locale = session.get("locale", "id")
    if fmt in ("csv", "xlsx"):
        return _figures_download(fig, fmt, locale, f"monev-{prefix}-{month:%Y-%m}.{fmt}")
    return render_template(
        "console/figures.html", fragment=report.to_html(fig, locale), month=month, prefix=prefix
    )


def _figures_download(fig: Any, fmt: str, locale: str, filename: str) -> Response:

    if fmt == "csv":
        text = io.StringIO()
        report.to_csv(fig, text, locale)
        data, mimetype = ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        buf = io.BytesIO()
        report.to_xlsx(fig, buf, locale)
        data = buf.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
