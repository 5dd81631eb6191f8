"""Small-cell suppression (docs/METHODS.md 15): a count below min_cell is shown as "<K" and every rate
computed from it is hidden, in tiles, charts, tables and exports alike.

Primary suppression alone is not enough: the tables add up (patients started = completed +
dropped + in progress, eligible = the five durability statuses, groups add up to the whole
cohort...), so a hidden count could be worked out by subtracting the shown ones from a shown
total. Complementary suppression hides further counts until no small count can be worked out
from what is shown. The check is linear algebra over every relation at once, not relation by
relation: a hidden cell x_j is recoverable exactly when e_j lies in the row space of the
relations restricted to the hidden cells.

Which counts are protected: every count from 1 to K-1, shown or not (the complement of a shown
count, such as the patients assessed but not responding, is a count of people too). A zero is
shown as 0: it describes no one, and "<K" would hide that nobody is there (a reader then knows a
"<K" count is 1 to K-1). A count hidden only so that a small one can't be worked out reads
"hidden", not "<K", which would be untrue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.engine.metrics import pools_by_week, weekly_time_to_response

# Table -> rate column -> the counts it is computed from.
RATE_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "summary": {"completion_rate": ("completed", "dropped", "ended")},
    "response": {
        "rate": ("responders", "assessed"),
        "rate_low": ("responders", "assessed"),
        "rate_high": ("responders", "assessed"),
        "remission_rate": ("remitters", "assessed"),
        "cumulative_rate": ("cumulative_responders", "evaluable"),
    },
    "late_response": {"late_response_rate": ("late_responders", "scored_again", "non_responders",
                                             "no_later_assessment")},
    "dropout": {"retained": ("dropped_after", "at_risk")},
    "durability": {
        "durability_rate": ("durable", "lost", "followed_up"),
        "rate_low": ("durable", "lost", "followed_up"),
        "rate_high": ("durable", "lost", "followed_up"),
        "conservative_rate": ("durable", "lost", "booster_first"),
    },
    # A month's control limits are worked out from its denominator, so they go with its rate.
    "monthly": {"rate": ("patients", "events"), "signal": ("patients", "events"), "lcl": ("patients",),
                "ucl": ("patients",)},
    "early_improvement": {
        **{rate: ("responded_later", "scored_later", "patients", "no_later_score")
           for rate in ("later_response_rate", "rate_low", "rate_high")},
        **{rate: ("itt_responded", "itt_evaluable") for rate in ("itt_rate", "itt_low", "itt_high")},
    },
    "reliable_change": {rate: ("patients", "denominator") for rate in ("rate", "rate_low", "rate_high")},
    # The curve at a day is a running product over every day up to it, and a median reads the
    # whole curve (see _apply).
    "time_to_response": {rate: ("responded", "censored", "at_risk") for rate in (
        "responded_share", "share_low", "share_high", "median_days", "median_low", "median_high")},
    # The same curve by week (shown in its place while counts are hidden): a week's share is the
    # curve at its end, hidden from the first week with a hidden count on; the medians are read off
    # the daily curve, a statistic over every patient, hidden only when the group's responses in
    # all are a small count (see _apply).
    "time_to_response_weekly": {rate: ("responded", "censored", "at_risk") for rate in (
        "responded_share", "share_low", "share_high", "median_days", "median_low", "median_high")},
    # A group's limits follow from its denominator and the target; the target from its two totals.
    "funnel": {"rate": ("numerator", "denominator"), "position": ("numerator", "denominator"),
               "target": ("target_numerator", "target_denominator"),
               **{limit: ("denominator", "target_numerator", "target_denominator")
                  for limit in ("low_998", "low_95", "high_95", "high_998")}},
}
COUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "summary": ("patients_started", "completed", "dropped", "in_progress", "ended", "started_before", "no_infusion",
                "usable_baseline", "no_baseline", "baseline_below"),
    "response": ("assessed", "responders", "remitters", "cumulative_responders", "evaluable"),
    "late_response": ("non_responders", "late_responders", "no_later_assessment", "scored_again"),
    "dropout": ("dropped_after", "at_risk", "completed_at", "in_progress_at"),
    "stopped_by_status": ("patients",),
    "stop_reasons": ("patients",),
    "dropout_detail": ("patients",),
    "durability": ("eligible", "durable", "lost", "booster_first", "no_follow_up", "pending", "followed_up"),
    "trajectories": ("patients",),
    "milestones": ("patients",),
    "monthly": ("patients", "events"),
    "early_improvement": ("patients", "no_later_score", "scored_later", "responded_later", "itt_evaluable",
                          "itt_responded"),
    "reliable_change": ("patients", "denominator"),
    "time_to_response": ("at_risk", "responded", "censored"),
    "time_to_response_weekly": ("at_risk", "responded", "censored"),
    "funnel": ("numerator", "denominator", "target_numerator", "target_denominator"),
}
# What identifies a row within a group, to match a group's row with the whole cohort's.
ROW_KEYS = {"summary": (), "response": ("n",), "late_response": ("n",), "dropout": ("n",),
            "stopped_by_status": ("n", "response_at_last"), "stop_reasons": ("reason",), "durability": (),
            "trajectories": ("measure", "kind", "n"), "milestones": ("measure", "point"), "monthly": ("chart", "month"),
            "early_improvement": ("k", "band"), "reliable_change": ("category",), "time_to_response": ("day",),
            "time_to_response_weekly": ("week",), "funnel": ("outcome",)}
# Counts a reader could work out by subtraction but that no table shows: people too, so protected.
_COMPLEMENTS = {  # table -> name: (total, part): complement = total - part
    "response": {"~not_responding": ("assessed", "responders"), "~not_remitting": ("assessed", "remitters"),
                 "~not_yet_responded": ("evaluable", "cumulative_responders")},
    "late_response": {"~not_later": ("scored_again", "late_responders")},
    "monthly": {"~not_events": ("patients", "events")},
    "early_improvement": {"~not_later": ("scored_later", "responded_later"),
                          "~itt_not": ("itt_evaluable", "itt_responded")},
    "reliable_change": {"~not_in_category": ("denominator", "patients")},
    "funnel": {"~not_numerator": ("denominator", "numerator")},
}

# Counts not shown at all while suppression is on: the numbers at risk, differenced along the
# infusions with the dropout counts, would give the small in-progress counts away.
WITHHELD = {"dropout": ("at_risk",)}
# Tables shown in place of another while suppression is on: when both are there, the other is
# withheld whole (its counts and rates emptied) unless its counts are asked for (`displayed`).
# The weekly curve is the daily curve at the end of each week, to full precision: beside the
# days' counts, a week's share would tell which of the few ways its small counts could fall
# across its days is the true one (a product of the days' steps), which no sum shows.
SHOWN_INSTEAD = {"time_to_response": "time_to_response_weekly"}
# Which counts to hide first when one must go to protect another: detail before headline numbers,
# and the whole cohort's (the tiles) last.
HIDE_FIRST = {"stopped_by_status": 0, "stop_reasons": 0, "dropout": 1, "late_response": 1, "monthly": 1,
              "early_improvement": 1, "time_to_response": 1, "time_to_response_weekly": 2, "trajectories": 2,
              "milestones": 2, "reliable_change": 2, "funnel": 2,
              "response": 3, "durability": 3, "summary": 4}

Cell = tuple[str, int, str]  # (table, row position, column)
HIDDEN = "hidden"  # how a count hidden only so that a small one can't be worked out reads


@dataclass
class _Cells:
    """Every count of every table as a cell, and the sums they take part in."""

    values: dict[Cell, float]
    relations: list[dict[Cell, int]]  # each: sum(coef * value) == 0


def shown_tables(frames: Mapping[str, pd.DataFrame], min_cell: int,
                 displayed: Mapping[str, Iterable[str]] | None = None) -> dict[str, pd.DataFrame]:
    """The tables as they may be shown: suppressed counts as '<K', the rates that use them empty.

    frames: metric tables by name (see ROW_KEYS), each with a `grp` column; a name prefixed with
    "overall." is the whole cohort's table when the others are split by a dimension.
    displayed: table -> the count columns a reader sees (default: every count but the WITHHELD
    ones, which are emptied); the others are unknown to the reader, but may be small counts to protect.
    """
    frames = {name: frame.reset_index(drop=True) for name, frame in frames.items() if frame is not None}
    if min_cell <= 0:
        return {name: frame.copy() for name, frame in frames.items()}
    cells = _cells(frames)
    if displayed is None:
        displayed = {name: [c for c in COUNT_COLUMNS.get(_table(name), ()) if c not in _withheld(name, frames)]
                     for name in frames}
    seen = {(t, r, c) for (t, r, c) in cells.values if not c.startswith("~") and c in set(displayed.get(t, ()))}
    hidden, blanked = suppressed_cells(cells, seen, min_cell)
    shown = {name: _apply(name, frame, hidden, min_cell) for name, frame in frames.items()}
    for name, row, col in blanked:
        shown[name].loc[row, col] = None
    for name, frame in shown.items():
        for col in _withheld(name, frames):
            if col in frame and col not in set(displayed.get(name, ())):
                frame[col] = None
        if _replaced(name, frames) and not set(displayed.get(name, ())) & set(COUNT_COLUMNS[_table(name)]):
            for col in RATE_SOURCES.get(_table(name), {}):
                if col in frame:
                    frame[col] = None
    return shown


def _replaced(name: str, frames: Mapping[str, pd.DataFrame]) -> bool:
    """Whether the table `name` is shown by another one in its place (SHOWN_INSTEAD)."""
    instead = SHOWN_INSTEAD.get(_table(name))
    return instead is not None and name.removesuffix(_table(name)) + instead in frames


def _withheld(name: str, frames: Mapping[str, pd.DataFrame]) -> tuple[str, ...]:
    """The count columns of `name` not shown unless asked for: WITHHELD's, or all of them when
    another table is shown in its place."""
    return COUNT_COLUMNS[_table(name)] if _replaced(name, frames) else WITHHELD.get(_table(name), ())


def suppress(frame: pd.DataFrame, table: str, min_cell: int) -> pd.DataFrame:
    """One table on its own (with its complementary suppression)."""
    return shown_tables({table: frame}, min_cell)[table]


def suppressed_cells(cells: _Cells, seen: set[Cell], min_cell: int) -> tuple[set[Cell], set[Cell]]:
    """The shown cells to hide: those from 1 to min_cell - 1, then more until no small count can be
    worked out; and, rarely, small cells not to show at all (see below).

    First sum by sum (fast): a sum with a single hidden non-zero cell gives it away, so one of its
    shown cells is hidden too (one that also closes other such sums, else the smallest), until no
    sum has one. Then every sum at once, with what a reader knows of each hidden count (exact, by
    linear programming): a small count still pinned down gets a shown cell of one of its sums
    hidden, and the sum-by-sum pass runs again. A zero is never hidden: it reads 0.

    Since a zero reads 0, a reader knows that a '<K' count is at least 1, so a sum made only of
    small counts can pin them (a '<3' total of two '<3' parts is 2 = 1 + 1) when nothing shown is
    left to hide. Then those small counts are not shown at all ('blanked', read as anything from 0).
    """
    seen = set(seen)
    hidden = {cell for cell in seen if 0 < cells.values[cell] < min_cell}
    sensitive = {cell for cell, v in cells.values.items() if 0 < v < min_cell}
    unknown = set(cells.values) - seen
    blanked: set[Cell] = set()
    totals = {c for rel in cells.relations for c, coef in rel.items() if coef == 1}
    safe: set[Cell] = set()  # seen to vary; hiding more only widens what a reader must allow for

    def exposed(rel) -> bool:
        covered = [c for c in rel if c in hidden or c in unknown]
        return len(covered) == 1 and (covered[0] in sensitive or (covered[0] in hidden and cells.values[covered[0]] > 0))

    def hide_one_of(rels, closes=None) -> bool:
        # A zero stays shown: hiding it would say "someone may be here" where no one is.
        shown = {c for rel in rels for c in rel if c in seen and c not in hidden and cells.values[c] > 0}
        if not shown:
            return False
        # Detail before headline numbers, then one that closes the most exposed sums, the smallest,
        # a part rather than a total, a stable order.
        hidden.add(min(shown, key=lambda c: (c[0].startswith("overall."), HIDE_FIRST.get(_table(c[0]), 5),
                                             -(closes or {}).get(c, 0), cells.values[c], c in totals, c)))
        return True

    while True:
        while open_sums := [rel for rel in cells.relations if exposed(rel)]:
            closes: dict[Cell, int] = {}
            for rel in open_sums:
                for c in rel:
                    closes[c] = closes.get(c, 0) + 1
            changed = False
            for rel in open_sums:
                if exposed(rel):
                    changed |= hide_one_of([rel], closes)
            if not changed:
                break
        pinned = _pinned(cells, hidden, unknown, sensitive, min_cell, safe)
        if not pinned:
            return hidden, blanked
        progress = False
        for cell in pinned:  # one more hidden cell for each (then every sum is checked again)
            if hide_one_of([rel for rel in cells.relations if cell in rel]):
                progress = True
                continue
            # Its own sums show nothing more: hide from the sums linked to it through hidden cells.
            free = hidden | unknown
            linked = next(c for c in _components([r for r in cells.relations if r.keys() & free], free)
                          if cell in c["cells"])
            if hide_one_of(linked["rows"]):
                progress = True
                continue
            # Nothing shown is left to hide: the small counts of its sums are not shown at all.
            small = {c for rel in linked["rows"] for c in rel if c in hidden and c in seen and c in sensitive}
            blanked |= small
            seen -= small
            unknown |= small
            progress |= bool(small)
        if not progress:
            return hidden, blanked  # not reached: a pinned count always has a small count beside it


def _pinned(cells: _Cells, hidden: set[Cell], unknown: set[Cell], sensitive: set[Cell], min_cell: int,
            safe: set[Cell]) -> list[Cell]:
    """The small counts whose value follows from the shown counts (at most one per group of linked sums).

    What a reader knows: a shown count is fixed, a '<K' count lies in 1..K-1, a 'hidden' one is
    at least K, and a count no table shows is at least 0. Each small count is minimised and
    maximised by linear programming; every count seen to differ between the two solutions is
    added to `safe` (hiding more later only widens what a reader must allow for)."""
    from scipy.optimize import linprog  # imported here: only suppression with a minimum cell size needs it

    free = hidden | unknown
    pinned: list[Cell] = []
    if not (sensitive & free) - safe:
        return pinned
    for component in _components([rel for rel in cells.relations if rel.keys() & free], free):
        todo = sorted(component["cells"] & sensitive - safe)
        if not todo:
            continue
        cols = sorted(component["cells"])
        local = {c: i for i, c in enumerate(cols)}
        a_eq = np.zeros((len(component["rows"]), len(cols)))
        b_eq = np.zeros(len(component["rows"]))
        for i, rel in enumerate(component["rows"]):
            for c, coef in rel.items():
                if c in local:
                    a_eq[i, local[c]] = coef
                else:
                    b_eq[i] -= coef * cells.values[c]
        bounds = [(0, None) if c in unknown else (1, min_cell - 1) if cells.values[c] < min_cell else (min_cell, None)
                  for c in cols]
        # A few solutions in random directions first: a cell that differs between any two of them
        # can't be pinned, which spares most of the per-cell programs below.
        rng = np.random.default_rng(len(cols))
        solutions = []
        for _ in range(3):
            direction = rng.standard_normal(len(cols))
            for sign in (1, -1):
                result = linprog(sign * direction, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
                if result.status == 0:
                    solutions.append(result.x)
        if len(solutions) > 1:
            spread = np.ptp(np.array(solutions), axis=0)
            safe.update(c for c in todo if spread[local[c]] >= 1 - 1e-6)
        for cell in todo:
            if cell in safe:
                continue
            objective = np.zeros(len(cols))
            objective[local[cell]] = 1
            low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if high.status == 3:  # unbounded above: it can't be pinned
                safe.add(cell)
                continue
            if high.x[local[cell]] - low.x[local[cell]] < 1 - 1e-6:
                pinned.append(cell)
                break  # the next cell to hide changes this group's sums: check it again then
            safe.update(c for c in todo if abs(high.x[local[c]] - low.x[local[c]]) >= 1 - 1e-6)
    return pinned


def _components(rows: list[dict[Cell, int]], hidden: set[Cell]) -> list[dict]:
    """Sums grouped by the hidden cells they share (each group is solved on its own)."""
    parent: dict[Cell, Cell] = {}

    def find(c):
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for rel in rows:
        cs = [c for c in rel if c in hidden]
        for c in cs[1:]:
            parent[find(c)] = find(cs[0])
    groups: dict[Cell, dict] = {}
    for rel in rows:
        root = find(next(c for c in rel if c in hidden))
        group = groups.setdefault(root, {"rows": [], "cells": set()})
        group["rows"].append(rel)
        group["cells"] |= {c for c in rel if c in hidden}
    return list(groups.values())


def _cells(frames: Mapping[str, pd.DataFrame]) -> _Cells:
    values: dict[Cell, float] = {}
    for name, frame in frames.items():
        table = _table(name)
        for col in COUNT_COLUMNS.get(table, ()):
            if col in frame:
                for row, v in enumerate(frame[col]):
                    values[(name, row, col)] = float(v)
        for col, (total, part) in _COMPLEMENTS.get(table, {}).items():
            if total in frame and part in frame:
                for row, (t, p) in enumerate(zip(frame[total], frame[part])):
                    values[(name, row, col)] = float(t - p)
    relations = [rel for rel in _relations(frames, values) if _holds(rel, values)]
    return _Cells(values, relations)


def _table(name: str) -> str:
    return name.removeprefix("overall.")


def _holds(rel: dict[Cell, int], values: dict[Cell, float]) -> bool:
    """Only true sums are used (a candidate that doesn't add up in this data tells a reader nothing)."""
    return all(c in values for c in rel) and abs(sum(coef * values[c] for c, coef in rel.items())) < 1e-9


def _sum(total: Cell, parts: list[Cell]) -> dict[Cell, int]:
    rel: dict[Cell, int] = {total: 1}
    for p in parts:
        rel[p] = rel.get(p, 0) - 1
    return rel


def _relations(frames: Mapping[str, pd.DataFrame], values: dict[Cell, float]) -> Iterable[dict[Cell, int]]:
    """Every sum a reader could use: within a row, along the infusion counts, across tables, and
    the groups adding up to the whole cohort."""
    for prefix in ("", "overall."):
        def rows(table):
            frame = frames.get(prefix + table)
            if frame is None or not len(frame) or "grp" not in frame:
                return {}
            keys = ("grp", *ROW_KEYS[table])
            return {tuple(r): i for i, r in enumerate(frame[list(keys)].itertuples(index=False))}

        def cell(table, row, col):
            return (prefix + table, row, col)

        summary, response, late, dropout = rows("summary"), rows("response"), rows("late_response"), rows("dropout")
        for (grp,), i in summary.items():
            c = lambda col: cell("summary", i, col)  # noqa: E731
            yield _sum(c("patients_started"), [c("completed"), c("dropped"), c("in_progress")])
            yield _sum(c("ended"), [c("completed"), c("dropped")])
            yield _sum(c("patients_started"), [c("usable_baseline"), c("no_baseline"), c("baseline_below")])
            by_n = sorted((key[1], j) for key, j in dropout.items() if key[0] == grp)
            if by_n:
                for col, per_n in (("dropped", "dropped_after"), ("completed", "completed_at"),
                                   ("in_progress", "in_progress_at")):
                    yield _sum(c(col), [cell("dropout", j, per_n) for _, j in by_n])
                yield _sum(c("patients_started"), [cell("dropout", by_n[0][1], "at_risk"),
                                                   cell("dropout", by_n[0][1], "in_progress_at")])
            reasons = [j for key, j in rows("stop_reasons").items() if key[0] == grp]
            if reasons:
                yield _sum(c("dropped"), [cell("stop_reasons", j, "patients") for j in reasons])
        for (grp, n), i in response.items():
            c = lambda col: cell("response", i, col)  # noqa: E731
            yield _sum(c("assessed"), [c("responders"), c("~not_responding")])
            yield _sum(c("assessed"), [c("remitters"), c("~not_remitting")])
            yield _sum(c("evaluable"), [c("cumulative_responders"), c("~not_yet_responded")])
            if (grp, n) in late:
                yield _sum(c("assessed"), [c("responders"), cell("late_response", late[(grp, n)], "non_responders")])
        for (grp, n), i in late.items():
            c = lambda col: cell("late_response", i, col)  # noqa: E731
            yield _sum(c("non_responders"), [c("scored_again"), c("no_later_assessment")])
            yield _sum(c("scored_again"), [c("late_responders"), c("~not_later")])
        stopped = rows("stopped_by_status")
        for (grp, n), i in dropout.items():
            c = lambda col: cell("dropout", i, col)  # noqa: E731
            if (grp, n + 1) in dropout:
                nxt = dropout[(grp, n + 1)]
                # at_risk(n) = at_risk(n+1) + dropped_after(n) + completed_at(n) + in_progress_at(n+1)
                yield _sum(c("at_risk"), [cell("dropout", nxt, "at_risk"), c("dropped_after"), c("completed_at"),
                                          cell("dropout", nxt, "in_progress_at")])
            parts = [j for key, j in stopped.items() if key[:2] == (grp, n)]
            if parts:
                yield _sum(c("dropped_after"), [cell("stopped_by_status", j, "patients") for j in parts])
        for (grp,), i in rows("durability").items():
            c = lambda col: cell("durability", i, col)  # noqa: E731
            yield _sum(c("eligible"), [c("durable"), c("lost"), c("booster_first"), c("no_follow_up"), c("pending")])
            yield _sum(c("followed_up"), [c("durable"), c("lost")])
        # Months add up to the whole: each chart's counts over the months are a tile's counts.
        monthly = rows("monthly")
        for (grp, _, _), i in monthly.items():
            yield _sum(cell("monthly", i, "patients"), [cell("monthly", i, "events"), cell("monthly", i, "~not_events")])
        frame = frames.get(prefix + "monthly")
        totals = {"completion": ("summary", (), "ended", "completed"),
                  "durability": ("durability", (), "followed_up", "durable"),
                  "response": ("response", ("n",), "assessed", "responders")}
        for chart, (table, keys, of_patients, of_events) in totals.items():
            for key, j in rows(table).items():
                grp, *rest = key
                months = [i for (g, c, _), i in monthly.items() if g == grp and c == chart
                          and all(frame.iloc[i][k] == v for k, v in zip(keys, rest))]
                if months:
                    yield _sum(cell(table, j, of_patients), [cell("monthly", i, "patients") for i in months])
                    yield _sum(cell(table, j, of_events), [cell("monthly", i, "events") for i in months])
        # The three points of the same patients have one count.
        points: dict[tuple, list[int]] = {}
        for (grp, measure, _), i in rows("milestones").items():
            points.setdefault((grp, measure), []).append(i)
        for first, *others in points.values():
            for i in others:
                yield _sum(cell("milestones", first, "patients"), [cell("milestones", i, "patients")])
        yield from _decision_relations(frames, prefix, rows, cell)
    # The groups of a split add up to the whole cohort, count by count.
    for name, whole in frames.items():
        if not name.startswith("overall.") or _table(name) not in frames:
            continue
        table = _table(name)
        keys = list(ROW_KEYS[table])
        parts = frames[table]
        by_key: dict[tuple, list[int]] = {}
        for j, key in enumerate(_keys(parts, keys)):
            by_key.setdefault(key, []).append(j)
        for i, key in enumerate(_keys(whole, keys)):
            for col in COUNT_COLUMNS.get(table, ()):
                if col in whole and col in parts:
                    yield _sum((name, i, col), [(table, j, col) for j in by_key.get(key, [])])


def _decision_relations(frames, prefix, rows, cell) -> Iterable[dict[Cell, int]]:
    """The sums of docs/METHODS.md's tables: within a row, along the days of the time-to-response
    curve, across the bands and categories, and the funnel's target totals against the tables
    that show the same totals."""
    early = rows("early_improvement")
    response = rows("response")
    for (grp, k, _), i in early.items():
        c = lambda col: cell("early_improvement", i, col)  # noqa: E731
        yield _sum(c("patients"), [c("no_later_score"), c("scored_later")])
        yield _sum(c("scored_later"), [c("responded_later"), c("~not_later")])
        yield _sum(c("itt_evaluable"), [c("itt_responded"), c("~itt_not")])
    for (grp, n), j in response.items():
        bands = [i for (g, k, _), i in early.items() if g == grp and k == n]
        if bands:  # the bands at k hold every patient assessed after k infusions
            yield _sum(cell("response", j, "assessed"), [cell("early_improvement", i, "patients") for i in bands])
    by_grp: dict[str, dict[str, int]] = {}
    for (grp, category), i in rows("reliable_change").items():
        by_grp.setdefault(grp, {})[category] = i
        yield _sum(cell("reliable_change", i, "denominator"),
                   [cell("reliable_change", i, "patients"), cell("reliable_change", i, "~not_in_category")])
    for grp, at in by_grp.items():
        c = lambda category, col: cell("reliable_change", at[category], col)  # noqa: E731
        changes = [k for k in ("reliable_improvement", "no_reliable_change", "reliable_deterioration") if k in at]
        if len(changes) == 3:  # the three change categories partition the finished patients
            yield _sum(c(changes[0], "denominator"), [c(k, "patients") for k in changes])
        for first, second in (("reliable_improvement", "no_reliable_change"),
                              ("no_reliable_change", "reliable_deterioration"), ("recovery", "reliable_recovery")):
            if first in at and second in at:  # one denominator, shown twice
                yield _sum(c(first, "denominator"), [c(second, "denominator")])
    curve = rows("time_to_response")
    for grp in {g for g, _ in curve}:
        days = sorted((day, i) for (g, day), i in curve.items() if g == grp)
        for (_, i), nxt in zip(days, [*days[1:], None]):
            c = lambda col: cell("time_to_response", i, col)  # noqa: E731
            # at_risk(day) = at_risk(next day) + responded(day) + censored(day)
            yield _sum(c("at_risk"), ([cell("time_to_response", nxt[1], "at_risk")] if nxt else [])
                       + [c("responded"), c("censored")])
    # The curve by week: the same sums along the weeks, and each week's counts are its days' (its
    # number at risk the first day's), so that the daily and the weekly tables shown side by side
    # (the report's files, the export beside the report) give no small count away.
    weekly = rows("time_to_response_weekly")
    for grp in {g for g, _ in weekly}:
        weeks = sorted((week, i) for (g, week), i in weekly.items() if g == grp)
        for (week, i), nxt in zip(weeks, [*weeks[1:], None]):
            c = lambda col: cell("time_to_response_weekly", i, col)  # noqa: E731
            yield _sum(c("at_risk"), ([cell("time_to_response_weekly", nxt[1], "at_risk")] if nxt else [])
                       + [c("responded"), c("censored")])
            days = sorted((day, j) for (g, day), j in curve.items() if g == grp and int(day) // 7 + 1 == week)
            if days:
                yield _sum(c("at_risk"), [cell("time_to_response", days[0][1], "at_risk")])
                for col in ("responded", "censored"):
                    yield _sum(c(col), [cell("time_to_response", j, col) for _, j in days])
    funnel = rows("funnel")
    for outcome in {o for _, o in funnel}:
        members = [i for (_, o), i in funnel.items() if o == outcome]
        for i in members:
            c = lambda col: cell("funnel", i, col)  # noqa: E731
            yield _sum(c("denominator"), [c("numerator"), c("~not_numerator")])
            for total, part in (("target_numerator", "numerator"), ("target_denominator", "denominator")):
                yield _sum(c(total), [cell("funnel", j, part) for j in members])
        # The same totals in the tables beside it (only sums that hold in the data are kept).
        first = cell("funnel", members[0], "target_numerator"), cell("funnel", members[0], "target_denominator")
        sources = {"itt_response": ("response", "cumulative_responders", "evaluable"),
                   "completion": ("summary", "completed", "ended"),
                   "durability": ("durability", "durable", "followed_up")}
        table, of_numerator, of_denominator = sources.get(outcome, (None, None, None))
        found = rows(table) if table else {}
        if table == "response" and found:
            last = max(n for _, n in found)
            found = {key: j for key, j in found.items() if key[1] == last}
        if found:
            yield _sum(first[0], [cell(table, j, of_numerator) for j in found.values()])
            yield _sum(first[1], [cell(table, j, of_denominator) for j in found.values()])


def _keys(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    """Each row's key, with a missing value as None (so that NaN matches NaN)."""
    if not keys:
        return [()] * len(frame)
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[keys].itertuples(index=False)]


def _apply(name: str, frame: pd.DataFrame, hidden: set[Cell], min_cell: int) -> pd.DataFrame:
    table = _table(name)
    out = frame.astype(object).copy()
    columns = list(COUNT_COLUMNS.get(table, ()))
    marks = np.zeros((len(frame), len(columns)), dtype=bool)
    position = {col: j for j, col in enumerate(columns)}
    for (t, row, col) in hidden:
        if t == name and col in position:
            marks[row, position[col]] = True
    hid = pd.DataFrame(marks, index=frame.index, columns=columns)
    for rate, sources in RATE_SOURCES.get(table, {}).items():
        if rate not in out:
            continue
        hide = hid[[s for s in sources if s in frame]].any(axis=1)
        if table == "dropout":
            # retained(n) is a running product over every step before n: hidden after the first hidden step.
            hide = hide.groupby(frame["grp"]).transform(lambda s: s.shift(1, fill_value=False).cummax())
        elif table == "time_to_response":
            # The share at a day is a running product up to and including that day's step; the
            # medians are read off the whole curve.
            steps = hide.astype(int).groupby(frame["grp"])
            hide = (steps.transform("max") if rate.startswith("median") else steps.cummax()) > 0
        elif table == "time_to_response_weekly":
            if rate.startswith("median"):
                # A statistic over every patient of the group: hidden only when the responses in all
                # are a small count (then the median would describe fewer than min_cell people).
                responded = pd.to_numeric(frame["responded"]).groupby(frame["grp"]).transform("sum")
                hide = (responded > 0) & (responded < min_cell)
            else:  # the share at the end of a week rests on every week before it
                hide = hide.astype(int).groupby(frame["grp"]).cummax() > 0
        out.loc[hide, rate] = None
    if table in ("trajectories", "milestones") and "patients" in hid:
        for col in ("mean", "sd", "mean_low", "mean_high"):
            if col in out:
                out.loc[hid["patients"], col] = None
    for col in hid:
        if col in out:
            small = hid[col] & (pd.to_numeric(frame[col]) < min_cell)
            out.loc[hid[col] & ~small, col] = HIDDEN  # not small itself: "<K" would be untrue
            out.loc[small, col] = f"<{min_cell}"
    return out


def metric_frames(m, prefix: str = "") -> dict[str, pd.DataFrame]:
    """The tables of a MetricTables as the dashboard shows them (dropouts by status and by reason
    rather than by both), keyed for shown_tables; the ones not computed are left out."""
    frames = {"summary": m.summary, "response": m.response, "late_response": m.late_response, "dropout": m.dropout,
              "durability": m.durability, "trajectories": m.trajectories}
    if getattr(m, "milestones", None) is not None and len(m.milestones.columns):
        frames["milestones"] = m.milestones
    if "patients" in m.dropout_detail:
        frames |= {"stopped_by_status": m.stopped_by_status(), "stop_reasons": m.stop_reasons()}
    if getattr(m, "monthly", None) is not None and len(m.monthly.columns):
        frames["monthly"] = m.monthly
    # docs/METHODS.md (the scatter's points are no count table: they are left to the panel).
    for name in ("early_improvement", "reliable_change", "time_to_response", "funnel"):
        if getattr(m, name, None) is not None and len(getattr(m, name).columns):
            frames[name] = getattr(m, name)
    if "time_to_response" in frames and pools_by_week(m.settings.min_cell):
        # With counts hidden, the curve is shown by week (a single day's counts are small); the
        # daily table stays beside it (the report's files), suppressed with it.
        frames["time_to_response_weekly"] = weekly_time_to_response(frames["time_to_response"])
    return {prefix + name: frame for name, frame in frames.items() if len(frame.columns)}


def shown_metrics(m, overall=None) -> dict[str, pd.DataFrame]:
    """Every table of m (and of the whole cohort, when m is split) suppressed together, at m's min_cell:
    a count hidden on one tab can't be worked out from another."""
    frames = metric_frames(m) | (metric_frames(overall, "overall.") if overall is not None else {})
    return shown_tables(coarsened(frames, m.settings.min_cell), m.settings.min_cell)


NOT_KNOWN, MERGED = "unknown", "non-responder-or-unknown"


def coarsened(frames: dict[str, pd.DataFrame], min_cell: int) -> dict[str, pd.DataFrame]:
    """With counts hidden: when a count of dropouts whose response was not known is small, those
    dropouts are counted with the ones not responding, in every group, before suppression. Hiding
    the small count alone would also hide a large one beside it (its complement), and the bars
    would read as if those who stopped were mostly responding (docs/METHODS.md 15: hiding never changes
    the story)."""
    names = [name for name in frames if _table(name) == "stopped_by_status"]
    if not min_cell or not names:
        return frames
    small = any(((f["response_at_last"] == NOT_KNOWN) & (f["patients"] > 0) & (f["patients"] < min_cell)).any()
                for f in (frames[name] for name in names))
    if not small:
        return frames
    out = dict(frames)
    for name in names:
        frame = frames[name]
        status = frame["response_at_last"].replace({NOT_KNOWN: MERGED, "non-responder": MERGED})
        out[name] = (frame.assign(response_at_last=status)
                     .groupby(["grp", "n", "response_at_last"], as_index=False, sort=False)["patients"].sum())
    return out


def small_points(monthly: pd.DataFrame, min_cell: int) -> int:
    """How many points of the p-charts suppression would hide for their outcome, not their size:
    a month (or quarter) with at least min_cell patients whose events or non-events are fewer
    (primary suppression only; the room's choice of period compares this count)."""
    if not min_cell or not len(monthly):
        return 0
    patients, events = pd.to_numeric(monthly["patients"]), pd.to_numeric(monthly["events"])
    rest = patients - events

    def small(v):
        return (v > 0) & (v < min_cell)

    return int(((patients >= min_cell) & (small(events) | small(rest))).sum())


def hidden_by_value(raw: pd.DataFrame, shown: pd.DataFrame) -> bool:
    """Whether a chart's shown points are a selection that depends on their values: some point with
    enough patients to judge has its share hidden (it was near 0% or 100%, or hidden to protect
    such a one). Drawing only the others would mislead (docs/METHODS.md 15). raw and shown: the same
    rows of one chart, before and after suppression."""
    if not len(raw):
        return False
    k = pd.to_numeric(raw["patients"])
    return bool(((k > 0) & raw["rate"].notna().to_numpy() & shown["rate"].isna().to_numpy()
                 & _judged_size(shown)).any())


def _judged_size(shown: pd.DataFrame) -> pd.Series:
    """Rows whose patients count is shown as a number (not '<K'): hidden for their outcome, if at all."""
    return pd.Series([not isinstance(v, str) or v == HIDDEN for v in shown["patients"]], index=shown.index).to_numpy()
