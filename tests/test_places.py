"""Matching what a resident typed to a kelurahan/desa of the shipped sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.places import THRESHOLD, Place, match_places, normalize
from sitefiles.sites import AreaSpec, read_sites

SHIPPED = Path(__file__).resolve().parent.parent / "sites.toml"


def _places(base: int, areas: tuple[AreaSpec, ...]) -> list[Place]:
    return [Place(base + i, a.name, a.kecamatan, a.aliases) for i, a in enumerate(areas)]


_PRE, _MSB = read_sites(SHIPPED)
PAREPARE, MASBAGIK = _places(1, _PRE.areas), _places(101, _MSB.areas)
ALL = PAREPARE + MASBAGIK


def names(text: str, places: list[Place] = ALL, limit: int = 3) -> list[str]:
    return [place.name for place, _ in match_places(text, places, limit)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # exact names with the words people put around them
        ("Lompoe", "Lompoe"),
        ("kel lompoe", "Lompoe"),
        ("Kel. Lompoe", "Lompoe"),
        ("kelurahan lompoe", "Lompoe"),
        ("lompo'e", "Lompoe"),
        ("desa paok motong", "Paokmotong"),
        ("Paok-Motong", "Paokmotong"),
        ("PAOKMOTONG!!!", "Paokmotong"),
        ("di kesik", "Kesik"),
        ("ds. kesik", "Kesik"),
        ("desakesik", "Kesik"),
        ("dari daerah kumbang", "Kumbang"),
        ("Kel. Lumpue RT 02 RW 03", "Lumpue"),
        ("rt03/rw02 lumpue", "Lumpue"),
        ("kec ujung kel lapadde", "Lapadde"),
        ("sumpang minanga", "Sumpang Minangae"),
        ("sumpang", "Sumpang Minangae"),
        ("sumpang minangae parepare", "Sumpang Minangae"),
        ("bkt indah", "Bukit Indah"),
        ("Bukit Indah", "Bukit Indah"),
        ("bukit harapan", "Bukit Harapan"),
        ("bkt harapan", "Bukit Harapan"),
        ("bumi harapan", "Bumi Harapan"),
        ("ujung baru soreang", "Ujung Baru"),
        ("ujung baru", "Ujung Baru"),
        ("kp pisang", "Kampung Pisang"),
        ("kampong pisang", "Kampung Pisang"),
        ("saya di kampung pisang dekat pasar", "Kampung Pisang"),
        ("wtg bacukiki", "Watang Bacukiki"),
        ("galong maloang", "Galung Maloang"),
        ("tirosompe", "Tiro Sompe"),
        ("masbagik utara", "Masbagik Utara"),
        ("masbagik utara baru", "Masbagik Utara Baru"),
        ("lendang nangka", "Lendang Nangka"),
        ("lendang nangka utara", "Lendang Nangka Utara"),
        ("desa masbagik timur kec masbagik lombok timur", "Masbagik Timur"),
        ("😀 lompoe 😀", "Lompoe"),
        # typos
        ("lompoi", "Lompoe"),
        ("lompoi bacukiki", "Lompoe"),
        ("paok motog", "Paokmotong"),
        ("kesi", "Kesik"),
        ("malusetasi", "Mallusetasi"),
        ("labukang", "Labukkang"),
        ("lapade", "Lapadde"),
        ("lakesi", "Lakessi"),
        ("ujung sabang", "Ujung Sabbang"),
        ("bukit harapn", "Bukit Harapan"),
        ("bumi harapn", "Bumi Harapan"),
        ("kampung bru", "Kampung Baru"),
        ("tiro sampe", "Tiro Sompe"),
        ("dangger", "Danger"),
        ("kumbng", "Kumbang"),
        ("lendang nanka utara", "Lendang Nangka Utara"),
        ("lemo", "Lemoe"),
    ],
)
def test_matches(text: str, expected: str) -> None:
    assert names(text)[:1] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "jakarta",
        "halo",
        "Halo, selamat pagi",
        "tolong",
        "saya mau lapor",
        "anak saya dipukul",
        "kdrt",
        "bansos bpjs",
        "makassar",
        "mataram",
        "selong",
        "parepare",
        "lombok timur",
        "ya",
        "pak rt",
        "3",
        "RT 3 RW 2",
        "",
        "   ",
        "🙏🙏",
        "?",
        # a kecamatan alone, or a word shared by many names, is not one place
        "masbagik",
        "soreang",
        "bacukiki barat",
        "ujung",
        "kampung",
        "bukit",
    ],
)
def test_no_match(text: str) -> None:
    assert names(text) == []


def test_similar_names_stay_apart() -> None:
    # Exact text names exactly one place, never its look-alike as well.
    assert names("bumi harapan") == ["Bumi Harapan"]
    assert names("bukit harapan") == ["Bukit Harapan"]
    assert names("bukit indah") == ["Bukit Indah"]
    assert names("masbagik utara") == ["Masbagik Utara"]
    assert names("masbagik utara baru") == ["Masbagik Utara Baru"]
    assert names("lendang nangka") == ["Lendang Nangka"]
    assert names("lendang nangka utara") == ["Lendang Nangka Utara"]
    assert names("kampung baru") == ["Kampung Baru"]


def test_ambiguous_typo_offers_both_best_first_in_site_order() -> None:
    result = match_places("lumpoe", ALL)
    assert [p.name for p, _ in result] == ["Lompoe", "Lumpue"]
    assert result[0][1] == result[1][1]


def test_scores_are_sorted_and_bounded() -> None:
    for text in ("lendang nanka utara", "lompoe", "lumpoe", "bukit harapn"):
        scores = [score for _, score in match_places(text, ALL)]
        assert scores == sorted(scores, reverse=True)
        assert all(THRESHOLD <= s <= 100 for s in scores)
    assert match_places("Lompoe", ALL)[0][1] == 100.0
    assert match_places("lompoi", ALL)[0][1] < 100.0


def test_limit() -> None:
    assert len(match_places("lendang nanka utara", ALL, limit=3)) == 2
    assert len(match_places("lendang nanka utara", ALL, limit=1)) == 1
    assert match_places("lompoe", ALL, limit=0) == []


def test_only_the_given_places_are_candidates() -> None:
    assert names("kesik", PAREPARE) == []
    assert names("kesik", MASBAGIK) == ["Kesik"]
    assert match_places("lompoe", []) == []


def test_returns_the_callers_place_objects() -> None:
    place, _ = match_places("paok motong", MASBAGIK)[0]
    assert place is MASBAGIK[1]
    assert place.id == 102


def test_list_aliases_and_empty_kecamatan_still_work() -> None:
    odd = [Place(1, "Sukamulia", "", ["Suka Mulia"]), Place(2, "Jantuk", "")]  # type: ignore[arg-type]
    assert names("suka mulia", odd) == ["Sukamulia"]
    assert names("jantuk", odd) == ["Jantuk"]


def test_long_message_is_bounded() -> None:
    # A 10,000-character message must not blow up; only its first words count.
    assert names("lompoe " + "x" * 10_000) == ["Lompoe"]
    assert names("bla " * 3000 + "lompoe") == []


def test_normalize() -> None:
    assert normalize("  Kel. Lompo'e,  RT 02 ") == "kel lompoe rt 02"
    assert normalize("Désa Kësik") == "desa kesik"
