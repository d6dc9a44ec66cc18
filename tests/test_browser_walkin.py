"""The console's "Laporan baru" in a real headless browser (Debian's chromium, Playwright): a
coordinator takes the report of a resident at the posko. The form shows only the questions the
flow asks ("in danger now" skips who, what and when), says what is wrong beside the field without
losing the other answers, and makes an urgent posko case with the spoken consent recorded.
Skipped like tests/test_browser.py when chromium is missing (failed under CI=true)."""

from __future__ import annotations

from tests.test_browser import page, server, shot  # noqa: F401 (fixtures)
from tests.test_console import PASSWORD, accounts_made  # noqa: F401 (a fixture)

SKIPPED_BY_DANGER = ("who", "age", "kind", "story", "perpetrator", "when")


def _shown(page, field: str) -> bool:  # type: ignore[no-untyped-def]
    return page.is_visible(f"[data-field={field}]")


def _error(page, field: str) -> str:  # type: ignore[no-untyped-def]
    return page.inner_text(f"[data-field={field}] .error")


def test_a_coordinator_takes_a_report_at_the_posko(page, accounts_made) -> None:
    page.goto(f"{page.base}/console/cases")
    page.fill("input[name=username]", "pare")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#case-list")
    page.click("#nav-walkin")
    page.click("#walkin-choose button[value=kekerasan]")
    page.wait_for_selector("#walkin-form")
    assert "dgn izin Anda" in page.inner_text("#consent-text")  # read aloud to the resident

    page.check("[data-field=danger] input[value=yes]")  # in danger now: straight to the place
    assert not any(_shown(page, f) for f in SKIPPED_BY_DANGER)
    assert _shown(page, "area") and _shown(page, "name")
    assert not _shown(page, "contact")  # no phone of her own: never contacted
    page.fill("input[name=own_phone]", "0812-3456-7001")
    assert _shown(page, "contact")
    page.fill("input[name=own_phone]", "")
    assert not _shown(page, "contact")
    page.check("[data-field=danger] input[value=no]")
    assert all(_shown(page, f) for f in SKIPPED_BY_DANGER)
    shot(page, "10-walkin-form")

    page.check("[data-field=came_by] input[value=posko]")
    page.check("[data-field=who] input[value=child]")
    page.fill("input[name=age]", "150")
    page.check("[data-field=kind] input[value=physical]")
    page.fill("textarea[name=story]", "Dipukul ayahnya kemarin malam")
    page.check("[data-field=perpetrator] input[value=family]")
    page.check("[data-field=when] input[value=days]")
    page.select_option("select[name=area]", "Lompoe")
    page.click("#walkin-submit")  # consent not ticked
    page.wait_for_selector("[data-field=consent] .error")
    assert "persetujuan lisan" in _error(page, "consent")
    assert page.is_checked("[data-field=who] input[value=child]")  # nothing typed is lost
    assert page.input_value("textarea[name=story]") == "Dipukul ayahnya kemarin malam"
    assert page.input_value("select[name=area]") == "Lompoe"
    assert _shown(page, "who")  # the conditions hold again on the page given back

    page.check("[data-field=consent] input[name=consent]")
    page.click("#walkin-submit")  # an age nobody has
    page.wait_for_selector("[data-field=age] .error")
    assert "umur" in _error(page, "age").lower()
    assert page.is_checked("[data-field=consent] input[name=consent]")
    assert page.input_value("input[name=age]") == "150"
    shot(page, "11-walkin-error")

    page.fill("input[name=age]", "9")
    page.click("#walkin-submit")
    page.wait_for_selector("#case-channel")
    assert page.inner_text("#case-channel") == "Posko"
    assert "Persetujuan lisan dicatat oleh pare" in page.inner_text("#case-consent")
    assert "Warga tanpa HP" in page.inner_text("#case-resident")
    assert "Mendesak" in page.inner_text("h1")  # a child victim: urgent
    code = page.inner_text("h1").split()[0]
    assert f"kode {code}" in page.inner_text("main")
    shot(page, "12-walkin-case")
    assert page.refused == []  # the form's script runs under the console's CSP
