"""Each rule pack over each shipped dump prints exactly its golden exposition (tests/golden/README.md), and the
shipped dumps are what the fixture's catalogue says its coordinators serve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixture import openmetrics
from tests.fixture.make_dumps import (
    FIXTURE_BEANS_PROFILE,
    METRICS_PROFILE,
    fixture_beans_path,
    format_dump,
    metrics_dump_path,
)
from tests.fixture.profiles import ALL_PROFILES, bean_json, catalogue, is_jvm_domain
from tests.helpers.golden_files import (
    DUMPS,
    EXIT_CODES,
    GOLDEN,
    REGENERATE,
    compare,
    golden_path,
    pairs,
    read_exit_codes,
    read_golden,
    render,
)

PAIRS = pairs()


@pytest.mark.parametrize(("pack", "dump"), PAIRS, ids=[golden_path(*pair).stem for pair in PAIRS])
def test_pack_over_dump_matches_its_golden_file(pack: Path, dump: Path) -> None:
    path = golden_path(pack, dump)
    code, text = render(pack, dump)
    diff = compare(read_golden(path), text, path.name)
    assert not diff, f"{path.name} differs from the rendered scrape; `{REGENERATE}` writes it again:\n{diff}"
    assert code == read_exit_codes()[path.name], f"exit code {code} differs from {EXIT_CODES.name}"


def test_compare_names_the_one_changed_line() -> None:
    original = read_golden(golden_path(*PAIRS[0]))
    lines = original.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("jmx_scrape_error "))
    altered = "".join([*lines[:index], "jmx_scrape_error 1.0\n", *lines[index + 1 :]])
    diff = compare(original, altered)
    assert "\n-jmx_scrape_error 0.0\n" in diff
    assert "\n+jmx_scrape_error 1.0\n" in diff
    assert compare(original, original) == ""


def test_compare_stops_after_the_limit() -> None:
    expected = "".join(f"a {i}\n" for i in range(100))
    actual = "".join(f"b {i}\n" for i in range(100))
    diff = compare(expected, actual, limit=40)
    assert diff.count("\n-a ") + diff.count("\n+b ") == 40
    assert diff.endswith("... more lines differ\n")


def test_every_pair_has_a_golden_file_and_none_is_stale() -> None:
    wanted = {golden_path(pack, dump).name for pack, dump in PAIRS}
    assert {path.name for path in GOLDEN.glob("*.prom")} == wanted, f"`{REGENERATE}` brings the set up to date"
    assert set(read_exit_codes()) == wanted, f"{EXIT_CODES.name} is out of date; `{REGENERATE}` writes it again"


def catalogue_dump(profile: str, groups: set[str]) -> str:
    beans = sorted(catalogue(profile, 0).beans, key=lambda bean: bean.object_name)
    return format_dump([bean_json(profile, bean) for bean in beans if bean.group in groups])


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_the_shipped_dumps_are_the_catalogues_coordinator_without_the_fixtures_own_beans(profile: str) -> None:
    """The fixture serves its catalogue beans as bean_json gives them (tests/test_fixture.py checks that), so the
    dump make_dumps writes is this; a catalogue change needs `python -m tests.fixture.make_dumps`."""
    text = (DUMPS / f"{profile}-coordinator.json").read_text(encoding="utf-8")
    assert text == catalogue_dump(profile, {"jvm", "core", "unrelated"})
    assert ".fixture:" not in text
    names = [bean["objectName"] for bean in json.loads(text)]
    assert {"java.lang:type=Memory", "java.lang:type=Runtime", "java.lang:type=Threading",
            "java.lang:type=OperatingSystem"} <= set(names)
    assert any(name.startswith("java.lang:") and "type=GarbageCollector" in name for name in names)
    assert all(name.startswith("java.lang:") for name in names if is_jvm_domain(name.split(":", 1)[0]))


def test_the_fixtures_own_beans_are_in_a_test_only_dump() -> None:
    assert fixture_beans_path().read_text(encoding="utf-8") == catalogue_dump(FIXTURE_BEANS_PROFILE, {"types"})


def test_the_saved_metrics_answer_is_what_the_fixture_serves() -> None:
    """What the Trino 480+ fixture's /metrics answers at generation 0, the JVM beans of the default
    openmetrics.jmx-object-names included; a catalogue change needs `python -m tests.fixture.make_dumps`."""
    names = catalogue(METRICS_PROFILE, 0).names()
    expected = openmetrics.render(openmetrics.collect(METRICS_PROFILE, 0, 0, names))
    assert metrics_dump_path().read_bytes() == expected
