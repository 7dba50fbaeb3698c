"""Which counts of one calendar year may be shown, and which must be hidden.

What this module owns
---------------------
Complementary cell suppression for the statistics of the incident register. It knows
nothing of forms or departments: a :class:`Schema` names *items* (the total, and every
value of every dimension) and how they relate; a :class:`YearTable` holds the counts of
one calendar year and decides, once, which of its cells are hidden.

The cells
---------
A cell is (item, column, time). Columns: staff, office holders, all (= staff + office
holders). Times: the 12 months, the 4 quarters, the year; only whole periods are shown
(a period in progress is not). The counts come in per *base slot* (staff or office
holders, in one month); every other cell is a sum of base slots. What an onlooker can
combine: within a base slot, the values of a dimension add up to their parent (the
total, or for nested dimensions such as "police report" the registered reports); a
multi-valued dimension (forms: a report has one or more) has each value at most the
parent and the values together at least the parent; a cell of a wider period or of the
"all" column is the sum of its parts; a structurally impossible cell (a mayor among
staff, a month before the first report or not yet over) is zero.

The guarantee
-------------
Every count under five is hidden, and so are the cells that protect it; all hidden cells
look the same, so a hidden cell tells only that its count is not shown. (Marking small
counts apart from protecting ones would tell "0 to 4" and "5 or more", and such bounds
can pin a count down.) For every hidden cell there is a *witness*: a change of the
counts by one report (moved, added, removed, or with one value swapped) that leaves
every shown number of the year unchanged, keeps every count at zero or more, respects
all the relations above, and changes the hidden cell. So whatever an onlooker combines,
at least two values remain possible for every hidden cell. Each witness is checked
against the relations before it is used.

The algorithm
-------------
Hide every count under five. A small count among staff or among office holders always
needs a second hidden cell in its row (staff + office holders = all): hide the other of
the two from the start, never "all". Then, year before quarters before months, office
holders before staff before "all", give every hidden cell without a witness the
cheapest one; all cells it touches become hidden and are covered by it. Cheapest: the
fewest and smallest cells newly hidden, where a quarter costs more than a month, the
year more than a quarter, an "all" cell more than a staff cell, and a total most.
Years are independent: no shown number adds up cells of different years.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

STAFF, OFFICE_HOLDERS, ALL = 0, 1, 2
MONTHS = 12
TIMES = 17  # 12 months, then 4 quarters (12..15), then the year (16)
YEAR = 16
THRESHOLD = 5
_CELLS_PER_ITEM = 3 * TIMES

# Information lost by hiding a cell: wider periods, the "all" column and totals are dearest.
_LEVEL_WEIGHT = (1,) * 12 + (8,) * 4 + (32,)
_COLUMN_WEIGHT = (1, 1, 16)
_TOTAL_WEIGHT = 4


def quarter_of(month: int) -> int:
    """The time index of the quarter of a month index (0..11)."""
    return 12 + month // 3


def months_of(time: int) -> range:
    """The month indices a time index covers."""
    if time < 12:
        return range(time, time + 1)
    if time < YEAR:
        first = (time - 12) * 3
        return range(first, first + 3)
    return range(MONTHS)


def _ancestors(slot: int) -> tuple[int, ...]:
    """Offsets (column * TIMES + time) of the six cells a base slot adds to."""
    column, month = divmod(slot, MONTHS)
    return tuple(c * TIMES + t for c in (column, ALL) for t in (month, quarter_of(month), YEAR))


_ANCESTORS = tuple(_ancestors(slot) for slot in range(2 * MONTHS))


@dataclass(frozen=True, slots=True)
class Dimension:
    """The items of one dimension, and the item whose count they divide."""

    items: tuple[int, ...]
    parent: int  # 0: the total; else e.g. "registered" for "police report yes/no"
    multi: bool = False  # each report has one or more values (and at least one)


@dataclass(frozen=True)
class Schema:
    """Item 0 is the total. ``allowed[item]`` says in which base columns an item can occur."""

    dimensions: tuple[Dimension, ...]
    allowed: tuple[tuple[bool, bool], ...]
    owner: tuple[int, ...] = field(init=False)  # item -> its dimension (-1 for the total)
    children: tuple[tuple[int, ...], ...] = field(init=False)  # item -> dimensions dividing it

    def __post_init__(self) -> None:
        owner = [-1] * len(self.allowed)
        children: list[list[int]] = [[] for _ in self.allowed]
        for index, dimension in enumerate(self.dimensions):
            children[dimension.parent].append(index)
            for item in dimension.items:
                owner[item] = index
        object.__setattr__(self, "owner", tuple(owner))
        object.__setattr__(self, "children", tuple(tuple(c) for c in children))

    @property
    def size(self) -> int:
        return len(self.allowed)


# A move: per base slot, per item, a change of +1 or -1 (before orientation).
_Change = tuple[int, int, int]  # (slot, item, delta)


class YearTable:
    """The counts of one calendar year, and which cells of it are hidden.

    ``base[slot][item]``: the count in base slot ``column * 12 + month`` (column staff or
    office holders). ``open_months``: the months that can hold reports (not before the
    first report, not in the future); the others are known to be empty. ``shown_times``:
    the periods that are shown (whole ones); the others are not protected, and free.
    """

    def __init__(
        self,
        schema: Schema,
        base: Sequence[Sequence[int]],
        open_months: Sequence[bool],
        shown_times: Sequence[bool] | None = None,
    ) -> None:
        if len(base) != 2 * MONTHS or len(open_months) != MONTHS:
            raise ValueError("a year has 24 base slots and 12 months")
        self.schema = schema
        self._base = [list(counts) for counts in base]
        self._open_months = tuple(open_months)
        self._open_times = tuple(any(open_months[m] for m in months_of(t)) for t in range(TIMES))
        self._slots = tuple(s for s in range(2 * MONTHS) if open_months[s % MONTHS])
        size = schema.size
        self._value = [0] * (size * _CELLS_PER_ITEM)
        for slot in range(2 * MONTHS):
            counts = self._base[slot]
            for item in range(size):
                count = counts[item]
                if count:
                    if not open_months[slot % MONTHS]:
                        raise ValueError("reports counted in a month that cannot hold any")
                    if not schema.allowed[item][slot // MONTHS]:
                        raise ValueError("a count in a column where the item cannot occur")
                    start = item * _CELLS_PER_ITEM
                    for offset in _ANCESTORS[slot]:
                        self._value[start + offset] += count
        self._weight = [0] * (size * _CELLS_PER_ITEM)
        for item in range(size):
            for column in range(3):
                for time in range(TIMES):
                    weight = _LEVEL_WEIGHT[time] * _COLUMN_WEIGHT[column] * (_TOTAL_WEIGHT if item == 0 else 1)
                    self._weight[item * _CELLS_PER_ITEM + column * TIMES + time] = weight
        self._hidden = bytearray(size * _CELLS_PER_ITEM)
        # Cells of periods that are not shown (still in progress) tell an onlooker nothing:
        # a witness may change them freely.
        self._shown = tuple(shown_times) if shown_times is not None else (True,) * TIMES
        for time in range(TIMES):
            if not self._shown[time]:
                for item in range(size):
                    for column in range(3):
                        self._hidden[item * _CELLS_PER_ITEM + column * TIMES + time] = 1
        self._owner, self._children = schema.owner, schema.children
        self._nets: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {}
        self._protect()

    # -- what the statistics read -------------------------------------------------

    def exists(self, item: int, column: int) -> bool:
        """False for a structurally impossible cell (a mayor among staff)."""
        allowed = self.schema.allowed[item]
        return allowed[column] if column != ALL else (allowed[0] or allowed[1])

    def value(self, item: int, column: int, time: int) -> int:
        return self._value[item * _CELLS_PER_ITEM + column * TIMES + time]

    def hidden(self, item: int, column: int, time: int) -> bool:
        """Hidden cells: every count under five, and the cells protecting them."""
        if not self._open_times[time]:
            return True  # known to be empty, and hidden like any small count
        return bool(self._hidden[item * _CELLS_PER_ITEM + column * TIMES + time])

    # -- the algorithm -----------------------------------------------------------

    def _protect(self) -> None:
        size, value, hidden = self.schema.size, self._value, self._hidden
        witnessed = bytearray(len(hidden))
        order = [YEAR, *range(12, YEAR), *range(MONTHS)]
        times = [t for t in order if self._open_times[t] and self._shown[t]]
        # Every small count is hidden, so it costs nothing in any witness. And staff +
        # office holders = all: a small count in one of those two columns always costs a
        # second hidden cell in its row; the cheaper one, the other of the two (never
        # "all"), is planned from the start. Then every hidden cell gets a witness.
        for time in times:
            for item in range(size):
                for column in (STAFF, OFFICE_HOLDERS, ALL):
                    cell = item * _CELLS_PER_ITEM + column * TIMES + time
                    if self.exists(item, column) and value[cell] < THRESHOLD:
                        hidden[cell] = 1
                cells = [item * _CELLS_PER_ITEM + column * TIMES + time for column in (STAFF, OFFICE_HOLDERS)]
                present = [self.exists(item, column) for column in (STAFF, OFFICE_HOLDERS)]
                if all(present) and any(value[cell] < THRESHOLD for cell in cells):
                    for cell in cells:
                        hidden[cell] = 1
        for time in times:
            # Office holders first: the fewest reports, so the most small counts.
            for column in (OFFICE_HOLDERS, STAFF, ALL):
                for item in range(size):
                    if not self.exists(item, column):
                        continue
                    cell = item * _CELLS_PER_ITEM + column * TIMES + time
                    if hidden[cell] and not witnessed[cell]:
                        for touched in self._hide_with_witness(item, column, time):
                            hidden[touched] = witnessed[touched] = 1

    def _hide_with_witness(self, item: int, column: int, time: int) -> list[int]:
        """The cells of the cheapest witness for a cell (which all become hidden)."""
        inside = self._inside(column, time)
        # Every option with a lower bound of its cost (the target's own cells for a swap,
        # the totals' cells for whole reports); the cheapest bounds are tried first.
        options: list[tuple[int, int, tuple[tuple[int, int], ...], int]] = []
        # Swaps of the target's value, or of a value above it (a counsellor-only report
        # becoming a registered one takes a police-report value along).
        swapped = sorted(self._path(item))
        for pattern in self._patterns(column, time, inside):
            moves_cell = any(slot in inside for slot, _ in pattern) and sum(s for b, s in pattern if b in inside) != 0
            for candidate in (*swapped, 0) if moves_cell else (0,):
                cost, up, down = self._item_costs(candidate, pattern)
                if up:
                    options.append((cost, candidate, pattern, 1))
                if down:
                    options.append((cost, candidate, pattern, -1))
        options.sort(key=lambda option: option[0])
        best: tuple[int, list[_Change], int] | None = None
        for bound, swapped_item, pattern, orientation in options:
            if best is not None and bound >= best[0]:
                break
            limit = best[0] if best is not None else None
            if swapped_item:
                found = self._swaps(swapped_item, item, inside, pattern, orientation, bound, limit)
            else:
                found = self._report(item, inside, pattern, orientation, bound, limit)
            if found is not None and not sum(d for slot, i, d in found[1] if i == item and slot in inside):
                found = None  # moves reports around the cell without changing it
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], found[1], orientation)
                if best[0] == 0:
                    break
        if best is None:
            # Unreachable: adding one report with the cell's value, in a month the cell covers,
            # is always possible (the single-slot patterns).
            raise AssertionError("no witness for a small count")
        _, changes, orientation = best
        return self._verify(changes, orientation, item * _CELLS_PER_ITEM + column * TIMES + time)

    def _inside(self, column: int, time: int) -> frozenset[int]:
        """The open base slots a cell adds up."""
        return frozenset(
            s for s in self._slots if (column == ALL or s // MONTHS == column) and s % MONTHS in months_of(time)
        )

    def _patterns(self, column: int, time: int, inside: frozenset[int]) -> Iterable[tuple[tuple[int, int], ...]]:
        """Signed base slots whose sum changes the target (column, time): cheapest shapes first."""
        outside = [s for s in self._slots if s not in inside]
        if column != ALL and time != YEAR:
            # The same report moved between staff and office holders, in a month inside
            # the cell and in one outside: the "all" column and the year do not change.
            other = 1 - column
            covered = months_of(time)
            for month in covered:
                for away in range(MONTHS):
                    if away not in covered and self._open_months[month] and self._open_months[away]:
                        yield (
                            (column * MONTHS + month, 1),
                            (other * MONTHS + month, -1),
                            (other * MONTHS + away, 1),
                            (column * MONTHS + away, -1),
                        )
        if column == ALL:
            # A report moved between staff and office holders in the same month leaves the
            # "all" column as it is; with a different value on each side (a role, say) the
            # target still changes.
            for month in months_of(time):
                if self._open_months[month]:
                    yield ((OFFICE_HOLDERS * MONTHS + month, 1), (STAFF * MONTHS + month, -1))
                    yield ((STAFF * MONTHS + month, 1), (OFFICE_HOLDERS * MONTHS + month, -1))
        pairs = [((slot, 1), (away, -1)) for slot in sorted(inside) for away in outside]
        pairs.sort(key=lambda pattern: len(self._net(pattern)))
        yield from pairs
        for slot in sorted(inside):
            yield ((slot, 1),)

    def _net(self, pattern: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        """(offset, coefficient) of every cell a pattern changes, for one item."""
        net = self._nets.get(pattern)
        if net is None:
            sums: dict[int, int] = {}
            for slot, sign in pattern:
                for offset in _ANCESTORS[slot]:
                    sums[offset] = sums.get(offset, 0) + sign
            net = tuple((offset, coefficient) for offset, coefficient in sums.items() if coefficient)
            self._nets[pattern] = net
        return net

    def _item_cost(self, item: int, pattern: tuple[tuple[int, int], ...], sign: int) -> int | None:
        """Cost of changing ``item`` by ``sign`` along ``pattern``; None if that is impossible."""
        cost, up, down = self._item_costs(item, pattern)
        return cost if (up if sign > 0 else down) else None

    def _item_costs(self, item: int, pattern: tuple[tuple[int, int], ...]) -> tuple[int, bool, bool]:
        """Cost of the cells ``item`` changes along ``pattern`` (the same either way), and
        whether it can go that way (+) and the opposite way (-) without a negative count."""
        allowed = self.schema.allowed[item]
        for slot, _ in pattern:
            if not allowed[slot // MONTHS]:
                return 0, False, False
        start = item * _CELLS_PER_ITEM
        value, hidden, weight = self._value, self._hidden, self._weight
        cost, up, down = 0, True, True
        for offset, coefficient in self._net(pattern):
            cell = start + offset
            old = value[cell]
            if old < -coefficient:
                up = False
            if old < coefficient:
                down = False
            if not hidden[cell]:
                cost += weight[cell] * (old + 1)
        return cost, up, down

    def _swaps(
        self,
        swapped: int,
        target: int,
        inside: frozenset[int],
        pattern: tuple[tuple[int, int], ...],
        orientation: int,
        swapped_cost: int,
        limit: int | None,
    ) -> tuple[int, list[_Change]] | None:
        """The cheapest swap of ``swapped`` (the target or a value above it) with another
        value of its dimension."""
        dimension = self.schema.dimensions[self._owner[swapped]]
        best: tuple[int, list[_Change]] | None = None
        for partner in (*dimension.items, None) if dimension.multi else dimension.items:
            if partner == swapped:
                continue
            bound = best[0] if best is not None else limit
            found = self._swap(swapped, partner, target, inside, pattern, orientation, swapped_cost, bound)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
                if best[0] == 0:
                    break
        return best

    def _swap(
        self,
        swapped: int,
        partner: int | None,
        target: int,
        inside: frozenset[int],
        pattern: tuple[tuple[int, int], ...],
        orientation: int,
        swapped_cost: int,
        limit: int | None,
    ) -> tuple[int, list[_Change]] | None:
        """One report's value changes from partner to ``swapped`` on + slots, back on - slots;
        a value with nested dimensions takes nested values along (the target among them).

        With ``partner`` None (multi-valued dimensions only) a form is added or dropped.
        """
        cost = swapped_cost
        changes = [(slot, swapped, sign) for slot, sign in pattern]
        if partner is not None:
            partner_cost = self._item_cost(partner, pattern, -orientation)
            if partner_cost is None:
                return None
            cost += partner_cost
            if limit is not None and cost >= limit:
                return None
            changes += [(slot, partner, -sign) for slot, sign in pattern]
        dimension = self.schema.dimensions[self._owner[swapped]]
        if dimension.multi:
            for slot, sign in pattern:
                effective = sign * orientation
                total = self._base[slot][dimension.parent]
                counts = self._base[slot]
                if effective > 0 and counts[swapped] + 1 > total:
                    return None
                if effective < 0 and partner is not None and counts[partner] + 1 > total:
                    return None
                if effective < 0 and partner is None and sum(counts[i] for i in dimension.items) - 1 < total:
                    return None
        for item, sign, carried in ((swapped, 1, target), (partner, -1, 0)):
            if item is None:
                continue
            for child in self._children[item]:
                steps = [(slot, s * sign) for slot, s in pattern]
                found = self._profile_values(child, steps, orientation, carried, inside)
                if found is None:
                    return None
                cost += found[0]
                changes += found[1]
        return cost, changes

    def _report(
        self,
        target: int,
        inside: frozenset[int],
        pattern: tuple[tuple[int, int], ...],
        orientation: int,
        root_cost: int,
        limit: int | None,
    ) -> tuple[int, list[_Change]] | None:
        """Whole reports added on + slots and removed on - slots (moved, when both).

        Every dimension gets a value per slot: one value everywhere where it can, else one
        per column (roles differ between staff and office holders), else the cheapest per
        slot. The target's value is on the slots ``inside`` the target's cell.
        """
        cost = root_cost
        changes: list[_Change] = [(slot, 0, sign) for slot, sign in pattern]
        for index in self._children[0]:
            found = self._profile_values(index, pattern, orientation, target, inside)
            if found is None:
                return None
            cost += found[0]
            if limit is not None and cost >= limit:
                return None
            changes += found[1]
        return cost, changes

    def _path(self, target: int) -> set[int]:
        """The target and the items above it (e.g. "registered" above "police report: yes")."""
        path = set()
        item = target
        while item != 0:
            path.add(item)
            item = self.schema.dimensions[self._owner[item]].parent
        return path

    def _profile_values(
        self,
        index: int,
        pattern: Sequence[tuple[int, int]],
        orientation: int,
        target: int,
        inside: frozenset[int],
    ) -> tuple[int, list[_Change]] | None:
        dimension = self.schema.dimensions[index]
        if dimension.multi:
            return self._profile_forms(dimension, pattern, orientation, target, inside)
        steps = list(pattern)
        forced = next((i for i in dimension.items if i in self._path(target)), None) if target else None
        candidates: list[list[tuple[tuple[int, int], int]]] = []
        if forced is not None:
            for where in self._placements(steps, inside):
                if len(where) == len(steps):
                    candidates.append([(step, forced) for step in steps])
                    continue
                for other in dimension.items:
                    if other != forced:
                        candidates.append([(step, forced if step in where else other) for step in steps])
        else:
            candidates += [[(step, item) for step in steps] for item in dimension.items]
            if len({slot // MONTHS for slot, _ in steps}) == 2 and not all(
                all(self.schema.allowed[i]) for i in dimension.items
            ):
                # Roles: one for the staff slots, one for the office holders' slots.
                by_column = [
                    self._cheapest_single(dimension, [s for s in steps if s[0] // MONTHS == c], orientation)
                    for c in (STAFF, OFFICE_HOLDERS)
                ]
                candidates.append([(step, by_column[step[0] // MONTHS]) for step in steps])
        best = self._best_assignment(candidates, orientation, target, inside)
        if best is None and forced is None and len(steps) > 1:
            # No one value can be on every slot (say, it is missing where a report leaves).
            candidates = [[(step, self._cheapest_single(dimension, [step], orientation)) for step in steps]]
            best = self._best_assignment(candidates, orientation, target, inside)
        return best

    @staticmethod
    def _placements(steps: list[tuple[int, int]], inside: frozenset[int]) -> list[list[tuple[int, int]]]:
        """Where the target's value can go so that the target's cell changes: on every slot,
        or only on the slots inside the cell that go one way."""
        options = []
        if sum(sign for slot, sign in steps if slot in inside) != 0:
            options.append(steps)
        for direction in (1, -1):
            chosen = [step for step in steps if step[0] in inside and step[1] == direction]
            if chosen and len(chosen) < len(steps):
                options.append(chosen)
        return options

    def _best_assignment(
        self,
        candidates: list[list[tuple[tuple[int, int], int]]],
        orientation: int,
        target: int,
        inside: frozenset[int],
    ) -> tuple[int, list[_Change]] | None:
        best: tuple[int, list[_Change]] | None = None
        for assignment in candidates:
            found = self._assignment_cost(assignment, orientation, target, inside)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
                if best[0] == 0:
                    break
        return best

    def _cheapest_single(self, dimension: Dimension, steps: list[tuple[int, int]], orientation: int) -> int:
        """The value that is cheapest on these slots alone (its nested values aside)."""
        key = tuple(steps)
        costs = [(self._item_cost(item, key, orientation), item) for item in dimension.items]
        feasible = [(cost, item) for cost, item in costs if cost is not None]
        return min(feasible)[1] if feasible else dimension.items[0]

    def _assignment_cost(
        self,
        assignment: list[tuple[tuple[int, int], int]],
        orientation: int,
        target: int,
        inside: frozenset[int],
    ) -> tuple[int, list[_Change]] | None:
        """Cost of giving each signed slot the assigned item (with nested values following)."""
        per_item: dict[int, list[tuple[int, int]]] = {}
        for step, item in assignment:
            per_item.setdefault(item, []).append(step)
        cost = 0
        changes: list[_Change] = []
        for item, steps in per_item.items():
            item_cost = self._item_cost(item, tuple(steps), orientation)
            if item_cost is None:
                return None
            cost += item_cost
            changes += [(slot, item, sign) for slot, sign in steps]
            for child in self._children[item]:
                found = self._profile_values(child, steps, orientation, target, inside)
                if found is None:
                    return None
                cost += found[0]
                changes += found[1]
        return cost, changes

    def _profile_forms(
        self,
        dimension: Dimension,
        pattern: Sequence[tuple[int, int]],
        orientation: int,
        target: int,
        inside: frozenset[int],
    ) -> tuple[int, list[_Change]] | None:
        """The forms of the reports moved: a removed report carries each form that all reports
        of its slot have, and only forms its slot has; an added one has at least one."""
        steps = list(pattern)
        required: set[int] = set()
        for slot, sign in steps:
            if sign * orientation < 0:
                counts = self._base[slot]
                required.update(i for i in dimension.items if counts[i] == counts[dimension.parent])
        targeted = target in dimension.items
        best: tuple[int, list[_Change]] | None = None
        extras: list[int | None] = [None] if (required or targeted) else []
        extras += [i for i in dimension.items if i not in required]
        placements = self._placements(steps, inside) if targeted else [[]]
        for extra, where in ((e, w) for e in extras for w in placements):
            shared = required | ({extra} if extra is not None else set())
            if targeted and target in shared and len(where) < len(steps):
                continue  # the target on every slot is the placement that covers this
            per_item = {item: steps for item in shared}
            if targeted and target not in shared:
                per_item[target] = where
            cost = 0
            for item, item_steps in per_item.items():
                item_cost = self._item_cost(item, tuple(item_steps), orientation)
                if item_cost is None:
                    break
                cost += item_cost
            else:
                if (best is None or cost < best[0]) and self._forms_hold(dimension, steps, orientation, per_item):
                    best = (cost, [(slot, item, sign) for item, s in per_item.items() for slot, sign in s])
        return best

    def _forms_hold(
        self,
        dimension: Dimension,
        pattern: list[tuple[int, int]],
        orientation: int,
        per_item: dict[int, list[tuple[int, int]]],
    ) -> bool:
        for slot, sign in pattern:
            effective = sign * orientation
            counts = self._base[slot]
            total = counts[dimension.parent] + effective
            chosen = {item for item, steps in per_item.items() if any(s == slot for s, _ in steps)}
            if effective > 0 and not chosen:
                return False
            values = [counts[i] + (effective if i in chosen else 0) for i in dimension.items]
            if max(values) > total or (total > 0 and sum(values) < total) or min(values) < 0:
                return False
        return True

    def _verify(self, changes: list[_Change], orientation: int, target: int) -> list[int]:
        """Check a witness against every relation an onlooker knows; return the cells it touches.

        The search builds moves that satisfy these by construction; this is the proof, run
        on every move actually used.
        """
        schema = self.schema
        per_slot: dict[int, dict[int, int]] = {}
        for slot, item, delta in changes:
            if not schema.allowed[item][slot // MONTHS] or not self._open_months[slot % MONTHS]:
                raise AssertionError("a witness puts a report where none can be")
            slot_changes = per_slot.setdefault(slot, {})
            slot_changes[item] = slot_changes.get(item, 0) + delta * orientation
        net: dict[int, int] = {}
        for slot, slot_changes in per_slot.items():
            counts = self._base[slot]
            after = [counts[item] + slot_changes.get(item, 0) for item in range(schema.size)]
            for dimension in schema.dimensions:
                values = [after[i] for i in dimension.items]
                parent = after[dimension.parent]
                if min(values) < 0 or parent < 0:
                    raise AssertionError("a witness makes a count negative")
                if dimension.multi:
                    if max(values) > parent or (parent > 0 and sum(values) < parent):
                        raise AssertionError("a witness breaks the forms of a report")
                elif sum(values) != parent:
                    raise AssertionError("a witness breaks a sum")
            for item, delta in slot_changes.items():
                for offset in _ANCESTORS[slot]:
                    cell = item * _CELLS_PER_ITEM + offset
                    net[cell] = net.get(cell, 0) + delta
        support = [cell for cell, delta in net.items() if delta]
        if target not in support:
            raise AssertionError("a witness does not change its cell")
        if any(self._value[cell] + net[cell] < 0 for cell in support):
            raise AssertionError("a witness makes a count negative")
        return support
