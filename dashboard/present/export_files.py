"""The export's files and their columns (docs/METHODS.md, "Exports"): what the command-line
export writes and what the report's table download names after it."""

# File -> (metric table, columns): a contract that tests and users rely on.
FILES = {
    "response_by_infusion.csv": ("response", [
        "n", "assessed", "responders", "rate", "rate_low", "rate_high", "remitters", "remission_rate",
        "cumulative_responders", "evaluable", "cumulative_rate"]),
    "late_response.csv": ("late_response", [
        "n", "non_responders", "late_responders", "no_later_assessment", "late_response_rate"]),
    "dropout.csv": ("dropout", ["n", "dropped_after", "retained"]),
    "durability.csv": ("durability", [
        "eligible", "durable", "lost", "booster_first", "no_follow_up", "pending", "durability_rate",
        "rate_low", "rate_high", "conservative_rate"]),
    # docs/METHODS.md 19.
    "early_improvement.csv": ("early_improvement", [
        "k", "band_from", "band_to", "patients", "no_later_score", "responded_later", "later_response_rate",
        "rate_low", "rate_high", "itt_evaluable", "itt_responded", "itt_rate"]),
    "reliable_change.csv": ("reliable_change", [
        "category", "patients", "denominator", "rate", "rate_low", "rate_high"]),
    # One row per day with an event, with or without --min-cell (the contract). With --min-cell 2
    # or more (pools_by_week) every day's counts and shares are left empty, as the report's table
    # download writes this file: the curve is shown by week then (WEEKLY_FILE), as in the app and
    # the report. Empty, not `hidden` or `<K`: those say a count is at least K, or 1 to K-1, which
    # would be untrue of some days, and written day by day would tell which days are small.
    "time_to_response.csv": ("time_to_response", [
        "day", "at_risk", "responded", "censored", "responded_share", "share_low", "share_high"]),
}
