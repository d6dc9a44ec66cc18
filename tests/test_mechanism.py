"""`hotline mechanism`: the site's mechanism for the SK Lurah annex, through the real command.

Everything in it comes from what runs: the roster from the database, deadlines from the
configuration, referral institutions and residents' words from flows/, case steps from
storage.casestate, the diagrams from the flow definitions. Members' phone numbers never appear.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.domain import i18n
from bot.render import mechanism
from flows import FLOWS
from flows import members as member_words
from flows.common import CONSENT_VERSION
from storage import casestate

ROOT = Path(__file__).resolve().parent.parent
PHONES = ("+6281100007001", "+6281100007002", "+6281100007003", "+6281100007004")
MEMBERS = f"""
[[member]]
site = "PRE"
name = "Koordinator Parepare"
phone = "{PHONES[0]}"
role = "koordinator"

[[member]]
site = "PRE"
name = "Ketua Lompoe"
phone = "0811-0000-7002"
role = "ketua"
area = "Lompoe"
backup = true

[[member]]
site = "PRE"
name = "Pendamping <b>Rina</b> & \\"Sari\\""
phone = "0811 0000 7003"
area = "Lompoe"
shifts = ["Sen-Jum 08:00-16:00"]

[[member]]
site = "PRE"
name = "Pendamping Lemoe"
phone = "{PHONES[3]}"
area = "Lemoe"
shifts = ["setiap hari 07:00-22:00"]
"""
HEADINGS_ID = (
    "Peran",
    "Jadwal piket",
    "Batas waktu dan pengingat",
    "Lembaga rujukan",
    "Langkah penanganan kasus",
    "Hak warga",
    "Alur percakapan",
)


def run(tmp_path: Path, *args: str, **env: str) -> Result:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'mechanism.db'}", "TWILIO_AUTH_TOKEN": "", **env}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def sites_file(tmp_path: Path, *, without: str | None = None) -> Path:
    """The shipped sites file with hotline numbers for PRE, and one area left out if asked."""
    text = (ROOT / "sites.toml").read_text(encoding="utf-8")
    text = text.replace("numbers = []", 'numbers = ["+624211234567", "whatsapp:+6281234500001"]', 1)
    if without:
        block = re.search(rf'\[\[site\.area\]\]\nname = "{without}"\n(?:[a-z].*\n)*', text)
        assert block is not None
        text = text.replace(block.group(0), "")
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, members: str = MEMBERS) -> None:
    assert run(tmp_path, "sites", "load", str(sites_file(tmp_path))).exit_code == 0
    path = tmp_path / "members.toml"
    path.write_text(members, encoding="utf-8")
    result = run(tmp_path, "members", "load", str(path))
    assert result.exit_code == 0, result.output


def document(tmp_path: Path, *args: str, **env: str) -> str:
    result = run(tmp_path, "mechanism", "--site", "PRE", *args, **env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    load(tmp_path)
    return tmp_path


def test_markdown_has_every_part_in_bahasa_indonesia(loaded: Path) -> None:
    md = document(loaded, "--format", "md")
    assert md.startswith("# Mekanisme Layanan Pengaduan KK Kota Parepare (PRE)")
    assert [f"## {i}. {h}" in md for i, h in enumerate(HEADINGS_ID, 1)] == [True] * len(HEADINGS_ID)
    # roles, and the roster by area with each member's role and shifts
    assert "| Pendamping | Menerima kasus" in md and "| Koordinator | Mengawasi" in md
    assert "|  | Seluruh wilayah | Koordinator Parepare | Koordinator | tanpa jadwal piket |" in md
    assert "| Bacukiki | Lompoe | Ketua Lompoe | Ketua, cadangan | tanpa jadwal piket |" in md
    assert "| Pendamping | Sen-Jum 08:00-16:00 |" in md
    assert "| Bacukiki | Watang Bacukiki | Belum ada anggota terdaftar |" in md
    # deadlines from configuration (the defaults here), the resident's safe times
    assert "60 menit untuk menjawab TERIMA atau TOLAK" in md and "batas jawabnya 10 menit" in md
    assert "lebih dari 30 menit" in md and "Pagi 07:00-11:00" in md and "Sore/malam 15:00-21:00" in md
    # every referral institution, every case step, the consent text and its version
    assert all(f"| {name} |" in md for name in member_words.INSTITUTIONS)
    assert all(i18n.text(label, "id") in md for label in casestate.LABELS.values())
    assert f"Persetujuan (versi {CONSENT_VERSION})" in md
    assert f"> {i18n.text('ask.consent', 'id')}" in md
    assert "### HAPUS (juga: hapus data" in md and "### BERHENTI" in md and "### Kata kode" in md
    # the flow diagrams as flowdoc writes them, and the case's steps
    assert md.count("```mermaid") == len(FLOWS) + 1
    assert "    [*] --> safe\n    safe --> [*]: no" in md
    assert 'state "menunggu pendamping" as new' in md
    assert "Ditetapkan di" in md and "Lurah/Kepala Desa" in md
    assert "memakai waktu setempat (WITA, Asia/Makassar)" in md


def test_no_member_phone_number_in_either_format(loaded: Path) -> None:
    """The document is printed and signed: names only. The hotline's own numbers (which
    residents text) are the only numbers of this site in it."""
    for fmt in ("md", "html"):
        text = document(loaded, "--format", fmt)
        digits = re.sub(r"\D", "", text)
        for phone in PHONES:
            national = "0" + phone[3:]
            assert phone not in text and national not in text and national[1:] not in digits
        assert "0811-0000-7002" not in text and "0811 0000 7003" not in text
        assert "+624211234567 (SMS)" in text and "+6281234500001 (WhatsApp)" in text


def test_html_is_one_printable_page_with_the_diagrams_and_escapes_names(loaded: Path) -> None:
    out = loaded / "mekanisme.html"
    result = run(loaded, "mechanism", "--site", "pre", "--output", str(out))  # html by the extension
    assert result.exit_code == 0 and str(out) in result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="id">' in page
    assert "<style>" in page and "@media print" in page and "@page" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page  # nothing to fetch
    assert page.count("<svg") == len(FLOWS) + 1 and "<title>Diagram alur Kekerasan</title>" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert "flow-kekerasan-arrow" in ids and len(ids) == len(set(ids))  # each diagram's own arrows
    assert all(f'<section id="{s.__name__.strip("_")}">' in page for s in mechanism.SECTIONS)
    assert "<h2>2. Jadwal piket</h2>" in page and '<th scope="col">Kelurahan/desa</th>' in page
    assert "Pendamping &lt;b&gt;Rina&lt;/b&gt; &amp; &quot;Sari&quot;" in page
    assert "<b>Rina</b>" not in page
    md = document(loaded, "--format", "md")
    assert 'Pendamping \\<b\\>Rina\\</b\\> & "Sari"' in md


def test_unknown_site_is_a_clear_error(loaded: Path) -> None:
    result = run(loaded, "mechanism", "--site", "XYZ")
    assert result.exit_code == 1
    assert "unknown site 'XYZ'; the sites are: PRE, MSB" in result.stderr
    assert "Traceback" not in result.output


def test_the_document_follows_the_configuration(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = document(loaded, "--format", "md")
    assert "| Bacukiki | Lemoe | Pendamping Lemoe | Pendamping | setiap hari 07:00-22:00 |" in before

    load(loaded, MEMBERS.replace("Sen-Jum 08:00-16:00", "Sab,Min 10:00-14:00"))
    assert run(loaded, "sites", "load", str(sites_file(loaded, without="Lemoe"))).exit_code == 0
    monkeypatch.setitem(member_words.INSTITUTIONS, "Posbakum Kelurahan", ("posbakum kelurahan", "pbk"))
    after = document(loaded, "--format", "md", HOTLINE_OFFER_MINUTES="45", HOTLINE_RESUME_MINUTES="15")
    assert "Sab,Min 10:00-14:00" in after and "Sen-Jum 08:00-16:00" not in after
    assert "Lemoe" not in after.split("## 3.")[0]  # the area left the sites file, and its member
    assert "| Posbakum Kelurahan | pbk |" in after
    assert "45 menit untuk menjawab" in after and "lebih dari 15 menit" in after
    assert "60 menit untuk menjawab" not in after


def test_english_on_request(loaded: Path) -> None:
    md = document(loaded, "--format", "md", "--locale", "en")
    assert md.startswith("# Complaint service mechanism of the KK, Kota Parepare (PRE)")
    assert "## 1. Roles" in md and "## 2. Duty roster" in md and "## 7. Conversation flows" in md
    assert "| Pendamping | Sen-Jum 08:00-16:00 |" not in md  # the role reads in English too
    assert "Pendamping (companion)" in md


def test_output_format_from_the_extension_and_every_text_translated(loaded: Path) -> None:
    out = loaded / "mekanisme.md"
    assert run(loaded, "mechanism", "--site", "PRE", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# Mekanisme")
    for locale in i18n.LOCALES:
        untranslated = [
            key
            for key in mechanism.LABEL_KEYS
            if i18n.translations(locale).gettext(f"mechanism.{key}") == f"mechanism.{key}"
        ]
        assert untranslated == [], locale
