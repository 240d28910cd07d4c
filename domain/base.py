"""What every aggregate of the register shares: deterministic ids, the recording clock, who acts.

An event's `timestamp` is its *recording instant*. The library reads the wall clock for it;
here the application passes its clock in with `recording_at(now)`, so that tests (and the
rules that compare with "today") use one and the same instant for a whole command.

Who records it is ambient the same way: the application sets `acting_as(actor, os_user)` once
per command, and every event that has `actor` and `os_user` fields gets them from there. The
event methods still name both parameters, last and defaulting to `ACTING`: that is what gives
their events those fields, in the place the stored events have always had them.
"""

from __future__ import annotations

import inspect
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone
from functools import lru_cache
from types import MethodType
from typing import Any, NamedTuple

from eventsourcing.domain import (
    Aggregate,
    CanInitAggregate,
    CommandMethodDecorator,
    MetaAggregate,
    decorated_func_callers,
    decorated_funcs,
)

from domain.fresh import fresh_bytes

# Namespace for ids derived from the register's own identifiers.
NAMESPACE = uuid.UUID("5b0a6f0e-8c55-4a8e-9a53-3d1c3f0d2a11")

_recording_instant: ContextVar[datetime | None] = ContextVar("recording_instant", default=None)
_acting: ContextVar[tuple[str, str] | None] = ContextVar("acting", default=None)

# The default of the `actor` and `os_user` parameters of event methods: replaced by `acting_as`'s.
ACTING: Any = None


class recording_at:  # noqa: N801 - used as a function
    """Stamp every event triggered inside the block with `now` (a UTC instant). (These blocks are classes
    rather than generators: each is entered once per command, a whole import's worth of times.)"""

    def __init__(self, now: datetime) -> None:
        assert now.tzinfo is not None, "recording instants are timezone-aware"
        self._now = now.astimezone(timezone.utc)

    def __enter__(self) -> None:
        self._token = _recording_instant.set(self._now)

    def __exit__(self, *_: Any) -> None:
        _recording_instant.reset(self._token)


class acting_as:  # noqa: N801 - used as a function, like recording_at
    """Record every event triggered inside the block as done by `actor`, run by the OS user `os_user`."""

    def __init__(self, actor: str, os_user: str) -> None:
        self._who = (actor, os_user)

    def __enter__(self) -> None:
        self._token = _acting.set(self._who)

    def __exit__(self, *_: Any) -> None:
        _acting.reset(self._token)


def _who() -> tuple[str, str]:
    """The actor and OS user of the command being carried out."""
    acting = _acting.get()
    assert acting is not None, "events that record who acted are triggered inside acting_as(actor, os_user)"
    return acting


@lru_cache(maxsize=1 << 16)
def natural_id(kind: str, *parts: str) -> uuid.UUID:
    """The aggregate id for a register-given identifier: the same key, the same id."""
    return uuid.uuid5(NAMESPACE, "/".join((kind, *parts)))


class Naming:
    """How aggregate ids name people (SPEC §9). By default a person is named by their register id, as
    in stores made before §9. An encrypted store names them by a pseudonym the ledger keeps apart from
    the events (`naming_people`): the aggregates of a person (and their memberships) then have ids that
    nobody can derive from the register id without the register's key store."""

    def person(self, register_id: str) -> str:
        """The name aggregate ids use for the person with this register id."""
        return register_id


_naming: ContextVar[Naming] = ContextVar("naming", default=Naming())


class naming_people:  # noqa: N801 - used as a function, like acting_as
    """Name people in aggregate ids with `naming` inside the block."""

    def __init__(self, naming: Naming) -> None:
        self._naming = naming

    def __enter__(self) -> None:
        self._token = _naming.set(self._naming)

    def __exit__(self, *_: Any) -> None:
        _naming.reset(self._token)


def people_naming() -> Naming:
    """How aggregate ids name people here and now (see `naming_people`)."""
    return _naming.get()


def person_id(kind: str, register_id: str, *parts: str) -> uuid.UUID:
    """The aggregate id of a person's aggregate of `kind` (with more `parts` before the person)."""
    return natural_id(kind, *parts, _naming.get().person(register_id))


class carrying_out:  # noqa: N801 - used as a function, like acting_as
    """`recording_at(now)`, `acting_as(actor, os_user)` and `naming_people(naming)` as one block: the
    application enters it once for every command, a whole import's worth of times."""

    def __init__(self, now: datetime, actor: str, os_user: str, naming: Naming) -> None:
        assert now.tzinfo is not None, "recording instants are timezone-aware"
        self._values = (now.astimezone(timezone.utc), (actor, os_user), naming)

    def __enter__(self) -> None:
        now, who, naming = self._values
        self._tokens = (_recording_instant.set(now), _acting.set(who), _naming.set(naming))

    def __exit__(self, *_: Any) -> None:
        instant, acting, naming = self._tokens
        _naming.reset(naming)
        _acting.reset(acting)
        _recording_instant.reset(instant)


class _Creation(NamedTuple):
    """How `cls(**kwargs)` makes an aggregate of a class, read once (see `_Creating`)."""

    event_class: Any
    topic: str
    names: frozenset[str]  # the parameters of __init__, after self
    defaults: dict[str, Any]
    id_names: tuple[str, ...]  # those that `create_id` is given (the library's own list)
    init: Any  # __init__ as a plain function
    who: bool  # whether the event records who acted


# What the library sets on a created event itself: an __init__ naming one of them goes the library's way.
_SET_BY_LIBRARY = frozenset({"id", "originator_id", "originator_version", "originator_topic", "timestamp"})


def _creation(cls: Any) -> _Creation | None:
    """The plan of `cls(**kwargs)`, or None where the library's own way must be taken."""
    from eventsourcing.domain import _create_id_param_names, _created_event_classes, _init_mentions_id
    from eventsourcing.utils import get_topic

    created = _created_event_classes.get(cls, ())
    if len(created) != 1 or cls in _init_mentions_id or getattr(cls, "TOPIC", None):
        return None
    event_class, init = created[0], cls.__init__
    parameters = list(inspect.signature(init).parameters.values())[1:]
    if (event_class.mutate is not CanInitAggregate.mutate or _SET_BY_LIBRARY.intersection(p.name for p in parameters)
            or any(p.kind is not p.POSITIONAL_OR_KEYWORD and p.kind is not p.KEYWORD_ONLY for p in parameters)):
        return None
    return _Creation(event_class, get_topic(cls), frozenset(p.name for p in parameters),
                     {p.name: p.default for p in parameters if p.default is not p.empty},
                     tuple(_create_id_param_names[cls]), init, "os_user" in event_class.__dataclass_fields__)


class _Creating(MetaAggregate):
    """`Claim(professional_id=…, …)`: the library's way of making an aggregate (a "created" event, then the
    aggregate it makes), with what the library works out on every call (the signatures of __init__ and
    `create_id`, the event's topic, which of its fields go where) read once per class. Its per-call work
    was half of making an aggregate, a twentieth of an import. The same event, the same aggregate, the
    same pending event; a call this does not plan for (positional arguments, a missing or unknown one)
    goes the library's way, and gets its errors."""

    _plans: dict[type, _Creation | None] = {}

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        plans = _Creating._plans
        plan = plans[cls] if cls in plans else plans.setdefault(cls, _creation(cls))
        if plan is None or args or not plan.names.issuperset(kwargs):
            return super().__call__(*args, **kwargs)
        given = {**plan.defaults, **kwargs}
        if len(given) != len(plan.names):  # one without a default is missing
            return super().__call__(*args, **kwargs)
        if plan.who:
            given["actor"], given["os_user"] = _who()
        event_class = plan.event_class
        originator_id = cls.create_id(**{name: given[name] for name in plan.id_names})
        timestamp, version = event_class.create_timestamp(), cls.INITIAL_VERSION
        created = event_class(originator_topic=plan.topic, originator_id=originator_id, originator_version=version,
                              timestamp=timestamp, **given)
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(originator_id=originator_id, originator_version=version, timestamp=timestamp)
        plan.init(aggregate, **given)
        created.apply(aggregate)
        aggregate._pending_events.append(created)
        return aggregate


class LedgerAggregate(Aggregate, metaclass=_Creating):
    """Base of the register's aggregates; its events carry the recording instant, and who acted."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            now = _recording_instant.get()
            return now if now is not None else datetime.now(timezone.utc)

    class Created(Event, Aggregate.Created):
        pass

    @staticmethod
    def create_id(*_: Any, **__: Any) -> uuid.UUID:
        """A new random id (version 4), as the library's `uuid4()`, of fresh bytes."""
        return uuid.UUID(bytes=fresh_bytes(16), version=4)

    # An event that records who acted (its class has `actor` and `os_user` fields) gets them here.

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        if "os_user" in event_class.__dataclass_fields__:
            kwargs["actor"], kwargs["os_user"] = _who()
        return super()._create(event_class, **kwargs)

    def __init_subclass__(cls, **options: Any) -> None:
        super().__init_subclass__(**options)  # the library makes the event classes of the @event methods
        for name, method in list(vars(cls).items()):
            if isinstance(method, CommandMethodDecorator) and name != "__init__" and method.decorated_property is None:
                setattr(cls, name, _Triggering(method))

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """The library's `trigger_event`: the next event in the sequence, applied, then pending. An event of an
        @event method is applied by calling that method with the event's fields, as the library applies it."""
        _triggered(self, event_class, decorated_funcs.get(event_class), "os_user" in event_class.__dataclass_fields__,
                   kwargs)


def _triggered(aggregate: Any, event_class: Any, method: Any, who: bool, fields: dict[str, Any]) -> None:
    """`trigger_event`, given what it reads of the event class: its @event method's function (`method`, or None)
    and whether it records who acted (`who`). `fields` are the event's own, and are used up."""
    if who:
        fields["actor"], fields["os_user"] = _who()
    version = aggregate._version + 1
    new = event_class(originator_id=aggregate._id, originator_version=version,
                      timestamp=event_class.create_timestamp(), **fields)
    if method is None:
        new.mutate(aggregate)
    else:
        method(aggregate, **fields)
        aggregate._version, aggregate._modified_on = version, new.timestamp
    aggregate._pending_events.append(new)


class _Triggering:
    """An @event method of an aggregate: calling it triggers its event (as `trigger_event`), as the library's
    decorator does, with the method's signature read once rather than on every call (the library's
    per-call work, 7 µs of the 12 µs an event took, was a tenth of an import). Read from the class, it is
    the library's decorator still; replaying stored events never comes here (the library's `apply`)."""

    def __init__(self, decorator: CommandMethodDecorator) -> None:
        self.decorator, self.event_class = decorator, decorated_func_callers[decorator]
        parameters = list(inspect.signature(decorator.decorated_func).parameters.values())[1:]  # after self
        self.names = tuple(p.name for p in parameters)
        self.defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
        self.method = decorated_funcs.get(self.event_class)
        self.who = "os_user" in self.event_class.__dataclass_fields__

    def __get__(self, aggregate: Any, owner: type) -> Any:
        return self.decorator.__get__(aggregate, owner) if aggregate is None else MethodType(self._trigger, aggregate)

    def _trigger(self, aggregate: LedgerAggregate, *args: Any, **kwargs: Any) -> None:
        given = dict(self.defaults)
        if args:
            if len(args) > len(self.names) or not kwargs.keys().isdisjoint(self.names[:len(args)]):
                raise TypeError(f"{self.decorator.decorated_func.__qualname__}() got too many or repeated arguments")
            given.update(zip(self.names, args))
        given.update(kwargs)
        _triggered(aggregate, self.event_class, self.method, self.who, given)
