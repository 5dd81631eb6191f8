"""Settings in, small metric tables out: binds the settings to queries/*.sql and runs them.

No Streamlit here: the app, the export CLI and the tests all call `compute`.
Stages are cached in the connection: the series and assessments are rebuilt only when a
setting they depend on changes, and a filter change reruns only the cohort and the final queries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from dashboard.core import sql
from dashboard.core.settings import Settings
from dashboard.engine.funnel import funnel_limit_rows, with_funnel_limits
from dashboard.ingest import Dataset

if TYPE_CHECKING:  # pandas takes a third of a second to import, and the CSV export needs none of it
    import pandas as pd

# Settings that change the series and the assessments (the expensive stage).
_SERIES_KEYS = ("as_of", "planned", "series_gap_days", "score_timing", "baseline_window_days",
                "end_of_series_days", "follow_up_days", "follow_up_low", "follow_up_high", "measures")
# MetricTables field -> the query in queries/ that fills it.
TABLES = {"summary": "summary", "response": "response_by_infusion", "late_response": "late_response",
          "dropout": "dropout", "dropout_detail": "dropout_detail", "durability": "durability",
          "trajectories": "trajectories", "milestones": "milestones", "monthly": "monthly",
          # Keep going?, as services report it, time to response, fair comparisons (docs/METHODS.md).
          "early_improvement": "early_improvement", "reliable_change": "reliable_change",
          "reliable_change_points": "reliable_change_points", "time_to_response": "time_to_response",
          "funnel": "funnel"}
# Settings that change which patients respond (and the baseline severity dimension).
_OUTCOME_KEYS = ("measure", "min_baseline", "response_reduction", "remission_cutoff", "severity_from",
                 "severity_labels")
# The patient dimension the engine derives itself, once the baseline is known (severity_dims.sql).
SEVERITY_DIM = "baseline_severity"
# How many (settings, cohort) combinations keep their metric tables: with "compare by" on, the app
# asks for two cohorts on every rerun (the whole selection for the tiles, and the split one).
RESULTS_KEPT = 8


@dataclass(frozen=True)
class Cohort:
    """Which patients the panels describe, and how to split them (docs/METHODS.md 15)."""

    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, allowed values)
    start_from: date | None = None
    start_to: date | None = None
    split_by: str = ""

    @classmethod
    def of(cls, filters: dict[str, list[str]] | None = None, split_by: str = "", start_from=None, start_to=None):
        items = tuple((dim, tuple(values)) for dim, values in sorted((filters or {}).items()) if values)
        return cls(items, start_from, start_to, split_by or "")


@dataclass
class MetricTables:
    """Every panel's numbers. Each frame has a `grp` column (one group, 'All patients', unless split)."""

    settings: Settings
    as_of: date
    summary: pd.DataFrame
    response: pd.DataFrame
    late_response: pd.DataFrame
    dropout: pd.DataFrame
    dropout_detail: pd.DataFrame
    durability: pd.DataFrame
    trajectories: pd.DataFrame
    milestones: pd.DataFrame  # the same patients' means at baseline, end of series and one month
    monthly: pd.DataFrame  # p-charts by month (or quarter) of series start
    early_improvement: pd.DataFrame  # per k and improvement band: response later in the series
    reliable_change: pd.DataFrame  # per category: reliable improvement ... reliable recovery
    reliable_change_points: pd.DataFrame  # (baseline, last score, patients): a scatter's points, no ids
    time_to_response: pd.DataFrame  # Kaplan-Meier per day with an event; the medians on every row
    funnel: pd.DataFrame  # per group and outcome: rate, target, exact binomial limits, position
    left_out_after_as_of: int = 0
    dated_in_future: int = 0  # visits dated after the day the data was read: never in any number
    first_visit: date | None = None  # the span of the visits read, up to today (stated with the data's name)
    last_visit: date | None = None
    groups: list[str] = field(default_factory=list)
    # The tables as they may be shown (dashboard.engine.suppression.shown_metrics), set by whoever shows them.
    shown: dict[str, pd.DataFrame] = field(default_factory=dict)

    def completion_rate(self) -> pd.Series:
        """completed / (completed + dropped) per group (docs/METHODS.md 6)."""
        return self.summary["completion_rate"].set_axis(self.summary["grp"])

    def stopped_by_status(self) -> pd.DataFrame:
        """Dropouts per group and infusion by their response status when they stopped (reasons summed)."""
        return self.dropout_detail.groupby(["grp", "n", "response_at_last"], as_index=False)["patients"].sum()

    def stop_reasons(self) -> pd.DataFrame:
        """Dropouts per group by the reason given for stopping (infusion counts summed)."""
        return self.dropout_detail.groupby(["grp", "reason"], as_index=False)["patients"].sum()

    def time_to_response_by_week(self) -> pd.DataFrame:
        """The time-to-response curve pooled by week since the first infusion (weekly_time_to_response):
        what is shown in its place when small counts are hidden."""
        return weekly_time_to_response(self.time_to_response)

    def median_time_to_response(self) -> pd.DataFrame:
        """Per group: the patients of the time-to-response curve, how many responded, and the
        median days to response with its 95% interval (empty where not reached)."""
        import pandas as pd

        t = self.time_to_response
        rows = []
        for grp in self.groups:
            g = t[t["grp"] == grp]
            first = g.iloc[0] if len(g) else None
            rows.append({"grp": grp, "patients": int(first["at_risk"]) if first is not None else 0,
                         "responded": int(g["responded"].sum()),
                         **{c: first[c] if first is not None else None
                            for c in ("median_days", "median_low", "median_high")}})
        return pd.DataFrame(rows, columns=["grp", "patients", "responded", "median_days", "median_low", "median_high"])


@dataclass
class MetricRows:
    """Some metric tables as (column names, rows of Python values); see Engine.rows."""

    settings: Settings
    as_of: date
    left_out_after_as_of: int
    dated_in_future: int
    tables: dict[str, tuple[list[str], list[tuple]]]


class Engine:
    """Computes metrics for one loaded dataset, caching the stages it can."""

    def __init__(self, dataset: Dataset, only_primary: bool = False, results_kept: int = RESULTS_KEPT,
                 today: date | None = None):
        """only_primary: build assessments for the primary measure alone (the CSV export needs no
        trajectories of the others). results_kept: how many (settings, cohort) combinations keep
        their tables (more for an engine that several sessions share). today: the day the data is
        read (tests fix it); visits after it are "dated in the future", never the as-of date."""
        self.dataset = dataset
        self.con = dataset.con
        self.only_primary = only_primary
        sql.run(self.con, "wilson_macro")
        self._series_key = None
        self._outcome_key = None
        self._cohort_key = None
        self._left_out = 0  # visits after as_of (and not after today), counted when the series are built
        self._start_ranges: dict[tuple, tuple[date, date] | None] = {}  # series key -> first and last start
        self.results_kept = results_kept
        # (settings, cohort) -> the metric tables computed for them and the visits left out, most
        # recently used last. The data never changes after load, so they stay valid.
        self._results: OrderedDict[tuple, tuple[dict[str, pd.DataFrame], int]] = OrderedDict()
        self.today = today or date.today()
        # docs/METHODS.md 2: a scheduled appointment or a typo such as 2205 can never become the as-of date.
        self.first_date: date | None  # the span of the visits that can be read (said with every screen)
        self.latest_date: date | None
        self.first_date, self.latest_date, self.dated_in_future = self.con.execute(
            "SELECT min(session_date) FILTER (WHERE session_date <= $today), "
            "max(session_date) FILTER (WHERE session_date <= $today), count(*) FILTER (WHERE session_date > $today) "
            "FROM visits", {"today": self.today}).fetchone()

    def params(self, settings: Settings) -> dict:
        settings.validate()
        measure = self.dataset.measures.get(settings.measure)
        if measure is None:
            raise ValueError(f"Unknown measure '{settings.measure}'.")
        if not measure.lower_is_better:
            raise ValueError(f"{measure.label} is higher-is-better, so it can't be the primary measure.")
        low, high = settings.follow_up_window
        as_of = settings.as_of or self.latest_date or self.today
        if as_of > self.today:
            raise ValueError(f"The as-of date {as_of} is after today ({self.today}): the data can only be read up to today.")
        return {
            "as_of": as_of,
            "planned": settings.planned,
            "series_gap_days": settings.series_gap_days,
            "score_timing": settings.score_timing,
            "baseline_window_days": settings.baseline_window_days,
            "end_of_series_days": settings.end_of_series_days,
            "follow_up_days": settings.follow_up_days,
            "follow_up_low": low,
            "follow_up_high": high,
            "measure": measure.name,
            "min_baseline": settings.min_baseline_for(measure),
            "response_reduction": settings.response_reduction,
            "remission_cutoff": measure.remission_cutoff,
            "measures": [measure.name] if self.only_primary else None,
            "control_period": settings.control_period,
            **decision_params(settings, measure),
        }

    def prepare(self, settings: Settings) -> dict:
        """Build the series, assessments and outcome tables for these settings, if not built yet."""
        params = self.params(settings)
        series_key = _key(params, _SERIES_KEYS)
        if series_key != self._series_key:
            for step in ("known_dims", "series_infusions", "patient_series", "assessments"):
                sql.run(self.con, step, params)
            self._left_out = self.con.execute(
                "SELECT count(*) FROM visits WHERE session_date > $as_of AND session_date <= $today",
                {"as_of": params["as_of"], "today": self.today}).fetchone()[0]
            self._series_key, self._outcome_key, self._cohort_key = series_key, None, None
        outcome_key = _key(params, _OUTCOME_KEYS)
        if outcome_key != self._outcome_key:
            # The baseline severity dimension first: it depends on the measure, and the cohort
            # (rebuilt on the next select) filters and splits by it like any dimension.
            for step in ("severity_dims", "responses", "outcomes", "infusion_counts"):
                sql.run(self.con, step, params)
            self._outcome_key, self._cohort_key = outcome_key, None
        return params

    def start_range(self, settings: Settings) -> tuple[date, date] | None:
        """The first and last series start in the data, for a date-range filter (kept per series
        settings, so that asking again builds no series)."""
        params = self.params(settings)
        key = _key(params, _SERIES_KEYS)
        if key not in self._start_ranges:
            self.prepare(settings)
            first, last = self.con.execute("SELECT min(first_date), max(first_date) FROM patient_series").fetchone()
            if len(self._start_ranges) >= 64:
                self._start_ranges.clear()
            self._start_ranges[key] = (first, last) if first else None
        return self._start_ranges[key]

    def select(self, cohort: Cohort) -> None:
        if cohort == self._cohort_key:
            return
        sql.run(self.con, "cohort", {
            "filter_dims": [d for d, _ in cohort.filters],
            "filter_values": [list(v) for _, v in cohort.filters],
            "split_by": cohort.split_by,
            "start_from": cohort.start_from,
            "start_to": cohort.start_to,
        })
        self._cohort_key = cohort

    def compute(self, settings: Settings, cohort: Cohort | None = None, tables: Iterable[str] | None = None) -> MetricTables:
        """The metric tables for these settings and this cohort: all of them, or only `tables`
        (names of MetricTables fields; the others are left empty). The summary is always there.
        Tables already computed for the same settings and cohort (results_kept of them) are
        returned again without running a query; each call gets its own copies."""
        import pandas as pd

        cohort = cohort or Cohort()
        params = self.params(settings)
        wanted = set(TABLES if tables is None else tables) | {"summary"}
        key = (_key(params, sorted(params)), cohort)
        kept, left_out = self._results.pop(key, ({}, None))
        if not wanted <= kept.keys():
            params = self.prepare(settings)
            self.select(cohort)
            left_out = self._left_out
            for name in [n for n in TABLES if n in wanted and n not in kept]:
                frame = sql.run(self.con, TABLES[name], params).df()
                kept[name] = _FINISH[name](frame) if name in _FINISH else frame
        self._results[key] = (kept, left_out)
        while len(self._results) > self.results_kept:
            self._results.popitem(last=False)
        frames = {name: kept[name].copy() if name in wanted else pd.DataFrame() for name in TABLES}
        return MetricTables(settings=settings, as_of=params["as_of"], left_out_after_as_of=left_out,
                            dated_in_future=self.dated_in_future, first_visit=self.first_date,
                            last_visit=self.latest_date,
                            groups=frames["summary"]["grp"].tolist(), **frames)

    def rows(self, settings: Settings, tables: Iterable[str], cohort: Cohort | None = None) -> MetricRows:
        """The named tables (MetricTables fields) for the cohort (default: the whole selection), as
        plain rows: what the CSV export writes. Nothing is kept, and no pandas is needed."""
        params = self.prepare(settings)
        self.select(cohort or Cohort())
        found = {}
        for name in tables:
            result = sql.run(self.con, TABLES[name], params)
            names, rows = [column for column, *_ in result.description], result.fetchall()
            found[name] = funnel_limit_rows(names, rows) if name == "funnel" else (names, rows)
        return MetricRows(settings, params["as_of"], self._left_out, self.dated_in_future, found)

    def dimension_values(self, settings: Settings) -> dict[str, list[str]]:
        """The dataset's dimensions and their values, and the baseline severity the engine derives
        for these settings (docs/METHODS.md 9-10), its values in band order, not alphabetical."""
        self.prepare(settings)
        present = {v for (v,) in self.con.execute(
            "SELECT DISTINCT value FROM known_dims WHERE dim = $dim", {"dim": SEVERITY_DIM}).fetchall()}
        order = [label for _, label in self.dataset.measures[settings.measure].severity_bands()]
        order += ["(no bands)", "(no baseline)"]
        return self.dataset.dimension_values() | {SEVERITY_DIM: [v for v in order if v in present]}

    def dropouts_to_call(self, settings: Settings, cohort: Cohort | None = None) -> pd.DataFrame:
        """Patient-level: the cohort's patients who stopped early, newest first (dropouts_to_call.sql).
        Only for an explicit request outside presentation mode; never part of MetricTables."""
        params = self.prepare(settings)
        self.select(cohort or Cohort())
        return sql.run(self.con, "dropouts_to_call", params).df()


def _key(params: dict, names) -> tuple:
    """The named parameters' values as a key for a dict (a list made a tuple)."""
    return tuple(tuple(params[k]) if isinstance(params[k], list) else params[k] for k in names)


def decision_params(settings: Settings, measure) -> dict:
    """The parameters of docs/METHODS.md's queries: the early-improvement cut-offs, the measure's
    caseness and reliable change (None where not declared) and its severity bands."""
    bands = measure.severity_bands()
    return {
        "early_bands": [float(edge) for edge in settings.early_bands],
        "caseness": measure.caseness,
        "reliable_change": measure.reliable_change,
        "severity_from": [lo for lo, _ in bands],
        "severity_labels": [label for _, label in bands],
    }


def pools_by_week(min_cell: int) -> bool:
    """Whether the time-to-response curve is shown by week: whenever counts can be hidden (a
    minimum cell size of 2 or more; at 1 no count is small, and the daily curve is shown whole)."""
    return min_cell > 1


WEEKLY_COLUMNS = ["grp", "week", "first_day", "last_day", "at_risk", "responded", "censored", "responded_share",
                  "share_low", "share_high", "median_days", "median_low", "median_high"]


def weekly_time_to_response(daily: pd.DataFrame) -> pd.DataFrame:
    """The time-to-response curve (docs/METHODS.md 9-10) pooled by week since the first infusion, for
    showing it with small counts hidden: one day's counts are small, a week's are larger.

    daily: the time_to_response table (one row per group and day with an event). Week w holds
    days 7(w-1) to 7w-1 (days 0-6 are week 1). One row per group and week with an event:
    at_risk: at risk at the start of the week (at risk on its first day with an event: no one
    leaves the count between the start of the week and that day); responded, censored: summed
    over the week; responded_share, share_low, share_high: the daily curve and its bounds at the
    end of the week (on its last day with an event: the curve is flat until the next one); the
    medians (read off the daily curve) as they are. first_day, last_day: the week's span in days.
    A pure function of the daily table; the group order is kept."""
    import pandas as pd

    if not len(daily.columns) or not len(daily):
        out = pd.DataFrame(columns=WEEKLY_COLUMNS)
        out.attrs = dict(daily.attrs)
        return out
    frame = daily.assign(week=daily["day"].astype(int) // 7 + 1).sort_values(["day"], kind="stable")
    grouped = frame.groupby(["grp", "week"], sort=False)
    first, last = grouped.first(), grouped.last()
    sums = grouped[["responded", "censored"]].sum()
    out = pd.DataFrame({
        "at_risk": first["at_risk"], "responded": sums["responded"], "censored": sums["censored"],
        **{c: last[c] for c in ("responded_share", "share_low", "share_high")},
        **{c: first[c] for c in ("median_days", "median_low", "median_high")},
    }).reset_index()
    out["first_day"], out["last_day"] = (out["week"] - 1) * 7, out["week"] * 7 - 1
    order = {g: i for i, g in enumerate(pd.unique(daily["grp"]))}
    out = out.sort_values(["grp", "week"], key=lambda s: s.map(order) if s.name == "grp" else s, kind="stable")
    out = out[WEEKLY_COLUMNS].reset_index(drop=True)
    for c in ("week", "first_day", "last_day", "at_risk", "responded", "censored"):
        out[c] = out[c].astype("int64")
    out.attrs = dict(daily.attrs)
    return out


def with_t_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a t-based 95% interval for each mean (docs/METHODS.md 3, trajectories)."""
    from scipy import stats  # imported here: only trajectories need it, and it is slow to import

    out = frame.copy()
    n = out["patients"].astype(float)
    df = (n - 1).where(n > 1)
    half = stats.t.ppf(0.975, df) * out["sd"] / n.pow(0.5)
    out["mean_low"] = out["mean"] - half
    out["mean_high"] = out["mean"] + half
    return out


# Tables finished in Python after their query: what SQL can't do well.
_FINISH = {"trajectories": with_t_intervals, "milestones": with_t_intervals, "funnel": with_funnel_limits}
