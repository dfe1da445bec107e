"""The test-rules file format, parsed once into frozen objects; errors name the file, line and key path.

    config: ../trino.yml                 # a rule file, relative to this file, or an inline mapping
    input: ../../examples/dumps/trino-coordinator.json   # a dump, relative to this file, or inline MBeans
    tests:
      - name: cluster memory pool        # required
        config: ...                      # optional: overrides the file's config for this test
        input: ...                       # optional: overrides the file's input for this test
        exhaustive: false                # true: every series produced must be listed under expect
        expect:                          # series that must be produced, with these values
          - name: trino_clustermemorypool_general_FreeDistributedBytes
            labels: {}                   # exactly these labels (default: none)
            value: 10737418240           # a number, or NaN, +Inf, -Inf
            type: gauge                  # optional: gauge, counter or untyped
          - series: 'presto_query_failures_total{reason="internal"}'   # the same, as on /metrics
            value: 2
        absent:                          # series that must not be produced
          - name: trino_execution_querymanager_ExecutionTime_FiveMinutes_Unit   # no series of this name
          - series: 'presto_nodes{state="draining"}'                           # not with exactly these labels

See docs/developing-rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from exporter.config.loader import load_config, parse_config
from exporter.config.model import Config, ConfigError, MetricType
from exporter.config.yamlnodes import FileFormatError, NodeReader, join, line_of, node_text, read_text
from exporter.records.javanum import parse_double
from exporter.records.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import BeanRequest, SourceError
from exporter.sources.dump import DumpSource
from exporter.tooling.series import Labels, SelectorError, parse_selector

FILE_KEYS = ("config", "input", "tests")
TEST_KEYS = ("name", "config", "input", "expect", "absent", "exhaustive")
SERIES_KEYS = ("name", "series", "labels", "value", "type")
_TYPES = {"gauge": MetricType.GAUGE, "counter": MetricType.COUNTER, "untyped": MetricType.UNTYPED}
_SPECIAL = {"nan": float("nan"), "+inf": float("inf"), "inf": float("inf"), "-inf": float("-inf")}


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """An ``expect`` entry (value set) or an ``absent`` entry (value None; labels None = any labels)."""

    name: str
    labels: Labels | None
    value: float | None
    type: MetricType | None
    path: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Case:
    """One test: its config, its beans and what must (not) come out."""

    name: str
    path: str
    line: int | None
    config: Config
    beans: tuple[MBean, ...]
    expect: tuple[SeriesSpec, ...]
    absent: tuple[SeriesSpec, ...]
    exhaustive: bool


@dataclass(frozen=True, slots=True)
class TestFile:
    path: Path
    cases: tuple[Case, ...]


def load_test_file(path: Path) -> TestFile:
    """Parse and resolve a test file (configs loaded, inputs read); raise FileFormatError."""
    return _Loader(path).load()


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = str(path)
        self.base = path.parent
        self.reader = NodeReader(self.source)
        self.text = ""
        self._configs: dict[Path, Config] = {}
        self._dumps: dict[tuple[Path, object], tuple[MBean, ...]] = {}

    def load(self) -> TestFile:
        self.text = read_text(self.path, self.source)
        root = self.reader.compose(self.text)
        if root is None:
            raise FileFormatError(self.source, None, "", "the file is empty (it needs config, input and tests)")
        top = self.reader.mapping(root, "", FILE_KEYS, "a mapping with config, input and tests")
        if "tests" not in top:
            raise FileFormatError(self.source, line_of(root), "", "no 'tests' list")
        config = self._config(top["config"][1], "config") if "config" in top else None
        beans = self._input(top["input"][1], "input", config) if "input" in top else None
        items = self.reader.sequence(top["tests"][1], "tests", "a list of tests")
        if not items:
            raise self.reader.error(top["tests"][1], "tests", "the list of tests is empty")
        cases = tuple(self._case(node, f"tests[{i}]", config, beans) for i, node in enumerate(items))
        seen: dict[str, Case] = {}
        for case in cases:
            first = seen.setdefault(case.name, case)
            if first is not case:
                raise FileFormatError(self.source, case.line, join(case.path, "name"),
                                      f"another test is also named '{case.name}' ({first.path}, line {first.line})")
        return TestFile(self.path, cases)

    def _case(self, node: yaml.Node, path: str, config: Config | None, beans: tuple[MBean, ...] | None) -> Case:
        entries = self.reader.mapping(node, path, TEST_KEYS, "a test (a mapping with name, expect, absent ...)")
        if "name" not in entries:
            raise self.reader.error(node, path, "a test needs a 'name'")
        name = self.reader.string(entries["name"][1], join(path, "name"), "a test name")
        if "config" in entries:
            config = self._config(entries["config"][1], join(path, "config"))
        if "input" in entries:
            beans = self._input(entries["input"][1], join(path, "input"), config)
        if config is None:
            raise self.reader.error(node, path, "no config: give 'config' in the test or at the top of the file")
        if beans is None:
            raise self.reader.error(node, path, "no input: give 'input' in the test or at the top of the file")
        expect = self._specs(entries, "expect", path, expected=True)
        absent = self._specs(entries, "absent", path, expected=False)
        exhaustive = self.reader.boolean(entries["exhaustive"][1], join(path, "exhaustive")) \
            if "exhaustive" in entries else False
        if not expect and not absent and not exhaustive:
            raise self.reader.error(node, path, "the test checks nothing: give 'expect', 'absent' or 'exhaustive'")
        return Case(name, path, line_of(node), config, beans, expect, absent, exhaustive)

    # -- config and input ------------------------------------------------------------------------------------------

    def _config(self, node: yaml.Node, path: str) -> Config:
        if isinstance(node, yaml.MappingNode):
            try:
                return parse_config(node_text(self.text, node), self.source)
            except ConfigError as exc:
                inner = exc.path
                full = path + inner if inner.startswith("[") or not inner else f"{path}.{inner}"
                raise FileFormatError(self.source, exc.line, full, exc.message) from None
        file = self._file(node, path, "a rule file path or an inline configuration mapping")
        if file not in self._configs:
            try:
                self._configs[file] = load_config(file)
            except ConfigError as exc:
                raise FileFormatError(self.source, line_of(node), path, f"the rule file is not valid: {exc}") from None
        return self._configs[file]

    def _input(self, node: yaml.Node, path: str, config: Config | None) -> tuple[MBean, ...]:
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            items = [node] if isinstance(node, yaml.MappingNode) else self.reader.sequence(node, path, "MBeans")
            beans = []
            for i, item in enumerate(items):
                where = path if isinstance(node, yaml.MappingNode) else f"{path}[{i}]"
                document: Any = self.reader.construct(item)
                try:
                    beans.append(airlift.parse_bean(document))
                except SourceError as exc:
                    raise self.reader.error(item, where, f"not an MBean in /v1/jmx/mbean form: {exc}") from None
            return tuple(beans)
        file = self._file(node, path, "a dump file path or inline MBeans")
        # A saved /metrics answer maps back to beans by the names the config lists, as the native source does.
        listed = (config.literal_object_names(), config.listed_attributes()) if config is not None else (None, ())
        key = (file, listed)
        if key not in self._dumps:
            try:
                dump = DumpSource(file)
                request = BeanRequest(listed[0], attributes=listed[1]) if dump.is_openmetrics() else BeanRequest()
                snapshot = dump.fetch(request, float("inf"))
            except SourceError as exc:
                raise self.reader.error(node, path, str(exc)) from None
            if snapshot.problems:
                raise self.reader.error(node, path, f"the dump has unreadable entries: {snapshot.problems[0]}")
            self._dumps[key] = snapshot.beans
        return self._dumps[key]

    def _file(self, node: yaml.Node, path: str, what: str) -> Path:
        text = self.reader.string(node, path, what)
        file = (self.base / text).resolve() if not Path(text).is_absolute() else Path(text)
        if not file.is_file():
            raise self.reader.error(node, path, f"no such file: {text} (paths are relative to the test file)")
        return file

    # -- series ----------------------------------------------------------------------------------------------------

    def _specs(self, entries: dict[str, tuple[yaml.Node, yaml.Node]], key: str, path: str,
               expected: bool) -> tuple[SeriesSpec, ...]:
        if key not in entries:
            return ()
        where = join(path, key)
        items = self.reader.sequence(entries[key][1], where, "a list of series")
        return tuple(self._spec(item, f"{where}[{i}]", expected) for i, item in enumerate(items))

    def _spec(self, node: yaml.Node, path: str, expected: bool) -> SeriesSpec:
        reader = self.reader
        known = SERIES_KEYS if expected else ("name", "series", "labels")
        entries = reader.mapping(node, path, known, "a series (a mapping with name or series)")
        if ("name" in entries) == ("series" in entries):
            raise reader.error(node, path, "give either 'name' (with optional 'labels') or 'series', not both")
        labels: Labels | None
        if "series" in entries:
            if "labels" in entries:
                raise reader.error(entries["labels"][0], join(path, "labels"),
                                   "'series' already holds the labels; use 'name' with 'labels' instead")
            text = reader.string(entries["series"][1], join(path, "series"), "name{label=\"value\"}")
            try:
                name, labels = parse_selector(text)
            except SelectorError as exc:
                raise reader.error(entries["series"][1], join(path, "series"), str(exc)) from None
        else:
            name = reader.string(entries["name"][1], join(path, "name"), "a metric name")
            try:
                name, no_labels = parse_selector(name)
            except SelectorError as exc:
                raise reader.error(entries["name"][1], join(path, "name"), str(exc)) from None
            if no_labels:
                raise reader.error(entries["name"][1], join(path, "name"),
                                   "labels go under 'labels' (or write the whole thing as 'series')")
            labels = self._labels(entries["labels"][1], join(path, "labels")) if "labels" in entries else None
        if expected:
            labels = labels or ()
            if "value" not in entries:
                raise reader.error(node, path, "an expected series needs a 'value'")
            value: float | None = self._value(entries["value"][1], join(path, "value"))
        else:
            value = None
        kind = None
        if "type" in entries:
            text = reader.string(entries["type"][1], join(path, "type"), "gauge, counter or untyped")
            kind = _TYPES.get(text.lower())
            if kind is None:
                raise reader.error(entries["type"][1], join(path, "type"),
                                   f"type must be gauge, counter or untyped, not '{text}'")
        return SeriesSpec(name, labels, value, kind, path, line_of(node))

    def _labels(self, node: yaml.Node, path: str) -> Labels:
        entries = self.reader.mapping(node, path, None, "a mapping of label name to value")
        return tuple(sorted((name, self.reader.scalar_text(value, join(path, name)))
                            for name, (_, value) in entries.items()))

    def _value(self, node: yaml.Node, path: str) -> float:
        value = self.reader.construct(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            special = _SPECIAL.get(value.strip().lower())
            if special is not None:
                return special
            parsed = parse_double(value.strip())
            if parsed is not None:
                return parsed
        raise self.reader.error(node, path, f"expected a number (or NaN, +Inf, -Inf), got {self.reader.kind(node)}")
