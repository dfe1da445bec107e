"""``--bean PATTERN`` options: ObjectName patterns that narrow what a tool reads and shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exporter.errors import UsageError
from exporter.records.mbeans import MBean
from exporter.records.objectname import ObjectNameError, ObjectNamePattern
from exporter.sources.base import BeanRequest


@dataclass(frozen=True, slots=True)
class BeanSelection:
    """The union of some ObjectName patterns; no pattern selects every bean."""

    patterns: tuple[ObjectNamePattern, ...] = ()

    @classmethod
    def parse(cls, texts: Sequence[str] | None, option: str = "--bean") -> BeanSelection:
        patterns = []
        for text in texts or ():
            try:
                patterns.append(ObjectNamePattern.parse(text))
            except ObjectNameError as exc:
                raise UsageError(
                    f"{option} {text!r}: not an ObjectName pattern ({exc}); e.g. 'trino.memory:*' or "
                    "'trino.execution:name=QueryManager'"
                ) from None
        return cls(tuple(patterns))

    def selects(self, bean: MBean) -> bool:
        return not self.patterns or any(p.matches(bean.domain, bean.properties) for p in self.patterns)

    def request(self) -> BeanRequest:
        """Exact names when every pattern is a plain ObjectName (a REST source then fetches only those)."""
        if self.patterns and not any(p.is_pattern for p in self.patterns):
            return BeanRequest(object_names=tuple(p.text for p in self.patterns))
        return BeanRequest(None, tuple(p.text for p in self.patterns))
