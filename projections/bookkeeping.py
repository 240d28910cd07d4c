"""Where each read model stands, and whether that can be trusted.

Each read model has a row in `rm_state` (name, generation, position): the generation readers
use and the position in the log up to which its tables have applied the events. `rm_applied`
records, for each generation's tables, the position they have applied, written in the same
transaction as `rm_state` (and the rows): its witness. A position in `rm_state` that
disagrees with it (rewound, advanced, or the row gone while the tables hold rows), or that
lies beyond the last event of the log (events deleted), or rows that collide with rows
already there, make the read model `Inconsistent`: nothing is applied or answered from it,
and a rebuild sets it right. A store made before `rm_applied` existed has its `rm_state`
positions taken as they are, once.

This is the library's `Tracking` (a position written in the transaction of the rows it
produced), kept in our own tables because the read models' rows are written through
SQLAlchemy, a page per transaction, with a generation beside the position (see
`projections.runner` for why the library's recorders and runner are not used).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from storage.errors import StorageFailure
from storage.readmodels import writing

if TYPE_CHECKING:
    from projections.generations import Generations
    from projections.runner import Target

STATE = MetaData()
rm_state = Table(
    "rm_state", STATE,
    Column("name", String(32), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
)
rm_applied = Table(  # the position each generation's tables have applied: rm_state's witness
    "rm_applied", STATE,
    Column("name", String(32), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)
# rm_state joined with the witness of its generation
STANDING = rm_state.outerjoin(rm_applied, and_(rm_applied.c.name == rm_state.c.name,
                                               rm_applied.c.generation == rm_state.c.generation))


class Inconsistent(StorageFailure):
    """A projection's bookkeeping disagrees with its tables or with the log: it cannot be trusted."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"The {name} read model's bookkeeping is inconsistent ({detail}), so it was neither "
                         f"read nor advanced: run 'studyledger projections rebuild {name}'.")
        self.name = name
        self.detail = detail


def distrust(name: str, position: int, applied: int | None, head: int) -> Inconsistent | None:
    """Why `name`'s position cannot be trusted against its witness (`applied`, None: none recorded)
    and the log's last position `head`, or None."""
    if applied is not None and applied != position:
        return Inconsistent(name, f"its position is {position}, but its tables have applied the log up to {applied}")
    if position > head:
        return Inconsistent(name, f"it has applied the log up to position {position}, but the log ends at {head}: "
                                  "events were removed from it")
    return None


class Bookkeeping:
    """rm_state and rm_applied on one engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.exists = False  # this process made sure rm_state and rm_applied exist: not asked again (a catalog query each)

    def create(self) -> None:
        if self.exists:
            return
        with writing(self.engine) as conn:
            STATE.create_all(conn)
        self.exists = True

    def start(self, name: str) -> None:
        """Record `name` at generation 1, position 0 (unless another process just did)."""
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(rm_state).values(name=name, generation=1, position=0))
                conn.execute(insert(rm_applied).values(name=name, generation=1, position=0))
        except IntegrityError:
            pass  # another process set it up at the same moment

    def state(self) -> dict[str, tuple[int, int]]:
        """name → (generation, position)."""
        with self.engine.connect() as conn:
            if not self.exists and not inspect(conn).has_table("rm_state"):
                return {}
            found = conn.execute(select(rm_state.c.name, rm_state.c.generation, rm_state.c.position)).all()
        return {name: (generation, position) for name, generation, position in found}

    def standing(self) -> dict[str, tuple[int, int, int | None]]:
        """name → (generation, position, the position its tables' witness records, or None if none)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(rm_state.c.name, rm_state.c.generation, rm_state.c.position,
                                        rm_applied.c.position).select_from(STANDING)).all()
        return {name: (generation, position, applied) for name, generation, position, applied in found}

    def generations(self, name: str) -> list[int]:
        """The generations of `name` with a witness on record."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(rm_applied.c.generation).where(rm_applied.c.name == name)).scalars())

    def problems(self, names: Sequence[str], head: int, generations: Generations) -> dict[str, Inconsistent]:
        """The read models among `names` whose bookkeeping cannot be trusted, with why (`head`: the log's last
        position). A generation without a witness (a store made before it existed) gets one from rm_state."""
        book = self.standing()
        found: dict[str, Inconsistent] = {}
        for name in names:
            if name not in book:
                found[name] = Inconsistent(name, "its tables hold rows but no position is recorded for them")
                continue
            generation, position, applied = book[name]
            if applied is None:
                try:
                    with writing(self.engine) as conn:
                        conn.execute(insert(rm_applied).values(name=name, generation=generation, position=position))
                except IntegrityError:
                    pass  # another process did the same at the same moment
            if (problem := distrust(name, position, applied, head)) is not None:
                found[name] = problem
            elif (missing := generations.missing_table(name, generation)) is not None:
                found[name] = Inconsistent(name, f"its table {missing} is missing: it was built by an earlier version")
        return found

    @staticmethod
    def advance(conn: Connection, target: Target, last: int) -> None:
        """Move the target's witness on to `last`, in the page's transaction; it must stand where rm_state
        says the target stands."""
        if not _move(conn, rm_applied, target, last):
            raise Inconsistent(target.projection.name, f"its position is {target.position}, which its tables' "
                                                       "record does not confirm")

    @staticmethod
    def move(conn: Connection, target: Target, last: int) -> bool:
        """Move the target's rm_state position on to `last`; False when another process moved it."""
        return _move(conn, rm_state, target, last)

    @staticmethod
    def switch(conn: Connection, target: Target) -> None:
        """Point readers at the target's generation, at the position it reached (a rebuild's last step)."""
        name = target.projection.name
        done = conn.execute(update(rm_state).where(rm_state.c.name == name)
                            .values(generation=target.generation, position=target.position))
        if done.rowcount == 0:  # its row was gone (see `problems`)
            conn.execute(insert(rm_state).values(name=name, generation=target.generation, position=target.position))
        conn.execute(delete(rm_applied).where(rm_applied.c.name == name))
        conn.execute(insert(rm_applied).values(name=name, generation=target.generation, position=target.position))


def _move(conn: Connection, table: Table, target: Target, last: int) -> bool:
    """Move the target's position row in `table` (rm_state or rm_applied) from where the target
    stands on to `last`; False when the row does not stand there (someone else moved it)."""
    done = conn.execute(
        update(table)
        .where(table.c.name == target.projection.name)
        .where(table.c.generation == target.generation)
        .where(table.c.position == target.position)
        .values(position=last)
    )
    return done.rowcount == 1
