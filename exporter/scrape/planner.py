"""What to fetch: only the MBeans the rules can use, found again on a slower cadence than the scrapes.

Two modes, chosen from the configuration:

- **Listed**: ``includeObjectNames`` holds only literal names (the curated packs). Each scrape asks for those names,
  each with the attributes ``includeObjectNameAttributes`` lists for it (a source that reads attributes one by one,
  Trino's ``/metrics``, asks for just those).
  A name the target did not have (``coordinator.yml`` lists the beans of all three products, so most are absent on
  any one server; a bean may also be missing for a while after a restart) is asked for again at the next scrape, then
  after a back-off that starts at ``RETRY_MISSING`` seconds and doubles each time it is still missing, up to
  ``discovery_interval``: a bean that comes back is exported again soon, one that never exists costs a request now
  and then.
- **Discovered**: anything else (patterns, no include list). A discovery fetch reads every bean the include
  patterns select (one ``GET /v1/jmx/mbean`` over REST) and keeps the beans the rule engine says may export
  (:meth:`exporter.rules.engine.RuleEngine.may_export`). Until the next discovery, each scrape asks for just those
  beans by name. When that is no cheaper than the whole list (many beans, or most of the attributes), every scrape
  reads the whole list and nothing is lost.

A discovery happens at the first scrape (again after each failure until one succeeds), every
``discovery_interval`` seconds, and, in discovered mode, at the next scrape when a bean that was asked for by name is
gone. A failed
scrape does not bring it forward: the same request is repeated, so a failing target gives the same error (and one
log line) each time instead of alternating between two requests. The price: a bean registered after a discovery is
exported from the next discovery on, at most ``discovery_interval`` seconds later (0 makes every scrape a
discovery, which is what jmx_exporter does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.records.objectname import ObjectNameError, canonical_key, parse_object_name
from exporter.rules.engine import RuleEngine
from exporter.sources.base import BeanRequest

DEFAULT_DISCOVERY_INTERVAL = 300.0
RETRY_MISSING = 10.0
# Asking for beans by name pays one request each: worth it for a few beans holding a small share of the data.
MAX_NAMED_BEANS = 64
NAMED_SHARE = 0.5
REQUEST_COST_ATTRIBUTES = 30  # what one extra request costs, in attributes' worth of transfer and parsing


@dataclass(frozen=True, slots=True)
class Plan:
    """One scrape's request; ``discovery`` says whether its answer re-decides what later scrapes fetch."""

    request: BeanRequest
    discovery: bool


def _key(name: str) -> object:
    try:
        return canonical_key(*parse_object_name(name))
    except ObjectNameError:
        return name


class Planner:
    """Decides each scrape's BeanRequest for one configuration and learns from what came back. Not thread-safe:
    the Scraper calls it from its single-flight leader only."""

    def __init__(
        self,
        config: Config,
        engine: RuleEngine,
        discovery_interval: float = DEFAULT_DISCOVERY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.engine = engine
        self.discovery_interval = discovery_interval
        self._clock = clock
        self._listed = config.literal_object_names()
        self._patterns = tuple(pattern.text for pattern in config.include_object_names)
        self._attributes = dict(config.listed_attributes())
        self._next_discovery: float | None = None  # None: at the next scrape
        # Listed names the target did not have when last asked: when to ask again, and the back-off that gave it.
        self._missing: dict[str, tuple[float, float]] = {}
        self._named: tuple[str, ...] | None = None  # discovered beans to ask for by name; None: the whole list
        self.discoveries = 0

    @property
    def missing(self) -> tuple[str, ...]:
        """Listed names the target did not have when they were last asked for (asked for again after a back-off)."""
        return tuple(name for name in self._listed or () if name in self._missing)

    @property
    def named(self) -> tuple[str, ...] | None:
        """In discovered mode, the beans asked for by name between discoveries (None: the whole list)."""
        return self._named

    def plan(self) -> Plan:
        """The request for this scrape."""
        due = self._next_discovery is None or self._clock() >= self._next_discovery
        if self._listed is not None:
            if due:
                return Plan(self._request(self._listed), True)
            now = self._clock()
            wanted = tuple(n for n in self._listed if n not in self._missing or self._missing[n][0] <= now)
            return Plan(self._request(wanted), False)
        if due:
            return Plan(BeanRequest(None, self._patterns), True)
        if self._named is None:
            return Plan(BeanRequest(None, self._patterns), False)
        return Plan(BeanRequest(object_names=self._named), False)

    def _request(self, names: tuple[str, ...]) -> BeanRequest:
        attributes = tuple((name, self._attributes[name]) for name in names if name in self._attributes)
        return BeanRequest(object_names=names, attributes=attributes)

    def learn(self, plan: Plan, beans: Sequence[MBean], deadline: float | None = None) -> None:
        """Update the plan from a successful fetch's beans; the rules it runs to tell which beans export are bounded
        by ``deadline`` (RuleTimeout)."""
        names = plan.request.object_names
        now = self._clock()
        if plan.discovery:
            self.discoveries += 1
            self._next_discovery = now + self.discovery_interval
        if self._listed is not None:
            absent = set(_absent(names or (), beans))
            for name in names or ():
                if name in absent:
                    # Once at the next scrape (a bean just gone may be back at once), then after the back-off.
                    previous = self._missing.get(name)
                    if previous is None:
                        delay = 0.0
                    else:
                        delay = RETRY_MISSING if not previous[1] else min(2 * previous[1], self.discovery_interval)
                    self._missing[name] = (now + delay, delay)
                else:
                    self._missing.pop(name, None)
            if plan.discovery and names and len(absent) == len(names):
                self._next_discovery = None  # nothing to narrow down to: keep asking for everything
        elif plan.discovery:
            self._named = self._choose(beans, deadline)
        elif names is not None and _absent(names, beans):
            self._next_discovery = None  # a bean vanished (a restart, a dropped catalog): look again next time

    def _choose(self, beans: Sequence[MBean], deadline: float | None) -> tuple[str, ...] | None:
        wanted = [bean for bean in beans if self.engine.may_export(bean, deadline)]
        if not wanted or len(wanted) > MAX_NAMED_BEANS:
            return None
        total = sum(len(bean.attributes) for bean in beans)
        needed = sum(len(bean.attributes) + REQUEST_COST_ATTRIBUTES for bean in wanted)
        if needed > NAMED_SHARE * total:
            return None
        return tuple(bean.object_name for bean in wanted)


def _absent(names: Sequence[str], beans: Sequence[MBean]) -> tuple[str, ...]:
    present = {canonical_key(bean.domain, bean.properties) for bean in beans}
    return tuple(name for name in names if _key(name) not in present)
