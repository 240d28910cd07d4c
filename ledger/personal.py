"""The library's mapper, with people's personal data protected in the stored events (SPEC §9).

`PersonalMapper` is the `eventsourcing` Mapper of every store. In a store made before §9 it has no
`people` and maps as the library does. In an encrypted store, before the library's transcoder
encodes an event, the fields domain/personal.py declares are replaced: a person named by register
id becomes "~" + their pseudonym, a free text is sealed with its author's key (ledger/people.py).
Decoding reverses it; a person whose key is gone comes back as "an erased professional #…" and
their texts as None. Domain objects in memory keep register ids and texts as always.

The seals (storage.seals) hash the stored bytes — the ciphertext — so checking the chain needs no key.
The read side decodes stored state without this mapper's objects; it calls `unprotect` on the raw
state (tests/projections/test_decode.py holds the two paths together).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from domain.personal import ACTOR_ROLES, AMENDED_TEXTS, PEOPLE, PROFESSIONAL, TEXTS, erased, pseudonym_of_erased
from domain.values import REGISTER
from ledger.people import REGISTER_OWNER, People

PSEUDONYM = "~"


def _result_text(result: Any) -> str:
    """A request's result as the JSON text that is sealed, its keys sorted: by orjson, as `json.dumps` wrote the
    texts of stores before (but compact), in a twelfth of the time (0.14 against 1.75 µs); both read back alike."""
    try:
        return orjson.dumps(result, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, say
        return json.dumps(result, sort_keys=True)


@dataclass
class Plan:
    """What to protect in the events of one class."""

    people: dict[str, str] = field(default_factory=dict)  # field → role
    texts: dict[str, str] = field(default_factory=dict)   # field → field naming its author (or REGISTER)
    actor_role: str = PROFESSIONAL
    amended: bool = False
    result: bool = False         # Request.Recorded: the first result, sealed with its owner's key

    def __post_init__(self) -> None:
        self.people_items = tuple(self.people.items())
        self.text_names = tuple(self.texts)


def plan_for(cls: type) -> Plan:
    from domain.claim import Claim
    from ledger.requests import Request

    plan = Plan(dict(PEOPLE.get(cls, {})), dict(TEXTS.get(cls, {})), ACTOR_ROLES.get(cls, PROFESSIONAL),
                amended=cls is Claim.Amended)
    if cls is Request.Recorded:
        plan = Plan({**plan.people, "owner": PROFESSIONAL}, plan.texts, plan.actor_role, result=True)
    return plan


class PersonalMapper(Mapper):
    def __init__(self, transcoder: Transcoder, people: People | None = None):
        super().__init__(transcoder)
        self.people = people
        self._plans: dict[str, Plan] = {}
        self._classes: dict[type, tuple[str, int]] = {}  # event class → its topic and class version

    def _plan(self, topic: str) -> Plan:
        plan = self._plans.get(topic)
        if plan is None:
            plan = self._plans[topic] = plan_for(resolve_topic(topic))
        return plan

    # --- writing ------------------------------------------------------------------------

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if self.people is None:
            return super().to_stored_event(domain_event)
        # The library's to_stored_event, with the state protected before it is encoded (one copy of it).
        cls = type(domain_event)
        known = self._classes.get(cls)
        if known is None:  # (asked of the class for every event, a missing class_version raised and was caught)
            known = self._classes[cls] = (get_topic(cls), getattr(cls, "class_version", 1))
        topic, class_version = known
        state = dict(vars(domain_event))
        originator_id, originator_version = state.pop("originator_id"), state.pop("originator_version")
        if class_version > 1:
            state["class_version"] = class_version
        stored_state = self.transcoder.encode(self.protect(topic, state))
        assert self.compressor is None and self.cipher is None, "an encrypted store seals people's data itself"
        return StoredEvent(originator_id=originator_id, originator_version=originator_version, topic=topic,
                           state=stored_state)

    def protect(self, topic: str, state: dict[str, Any]) -> dict[str, Any]:
        people, plan = self.people, self._plan(topic)
        assert people is not None
        for name in plan.people:
            register_id = state.get(name)
            if register_id is not None:
                pseudonym = people.pseudonym(register_id) or pseudonym_of_erased(register_id)
                if pseudonym is None:
                    raise ValueError(f"{topic}: {name} '{register_id}' is nobody the key store knows")
                state[name] = PSEUDONYM + pseudonym
        actor = state.get("actor")
        if isinstance(actor, str) and actor != REGISTER:
            pseudonym = people.pseudonym(actor) or pseudonym_of_erased(actor)
            if pseudonym is not None:
                state["actor"] = PSEUDONYM + pseudonym
        for name, author in plan.texts.items():
            if state.get(name) is not None:
                state[name] = people.seal(self._owner(state, author), state[name])
        if plan.amended:
            owner = self._owner(state, "actor")
            state["changes"] = {k: people.seal(owner, v) if k in AMENDED_TEXTS and isinstance(v, str) else v
                                for k, v in state["changes"].items()}
        if plan.result:
            state["result"] = people.seal(self._owner(state, "owner"), _result_text(state["result"]))
        return state

    @staticmethod
    def _owner(state: dict[str, Any], author: str) -> str:
        """The key a text is sealed with: its author's, found in the (protected) field `author`."""
        if author == REGISTER:
            return REGISTER_OWNER
        value = state.get(author)
        return value[1:] if isinstance(value, str) and value.startswith(PSEUDONYM) else REGISTER_OWNER

    # --- reading ------------------------------------------------------------------------

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        if self.people is not None:
            self.unprotect(stored_event.topic, vars(domain_event))
        return domain_event

    def unprotect(self, topic: str, state: dict[str, Any], texts: bool = True) -> dict[str, Any]:
        """Reverse `protect` in place (on a decoded or a raw state alike); returns `state`. (A rebuild calls
        it for every event: the known pseudonyms are looked up in the people's cache directly.) `texts`:
        open the sealed texts too; the read models keep them sealed, and open them when they show them."""
        people, plan = self.people, self._plans.get(topic) or self._plan(topic)
        assert people is not None
        known = people.known
        for name, role in plan.people_items:
            value = state.get(name)
            if value.__class__ is str and value[:1] == PSEUDONYM:
                state[name] = known.get(value[1:]) or people.register_id(value[1:]) or erased(role, value[1:])
        actor = state.get("actor")
        if actor.__class__ is str and actor[:1] == PSEUDONYM:
            state["actor"] = known.get(actor[1:]) or people.register_id(actor[1:]) or erased(plan.actor_role, actor[1:])
        open_ = people.open
        if plan.result:  # a --request-id's first result: the read side needs the claim it names
            text = open_(state["result"])
            state["result"] = json.loads(text) if text is not None else None
        if not texts:
            return state
        for name in plan.text_names:
            text = state.get(name)
            if text is not None:
                state[name] = open_(text)
        if plan.amended:
            state["changes"] = {k: open_(v) if k in AMENDED_TEXTS and isinstance(v, str) else v
                                for k, v in state["changes"].items()}
        return state

