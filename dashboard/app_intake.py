"""What the dashboard read: the per-file summary, the data-quality panel, and the mapping step
for exports whose columns it could not recognise."""

from __future__ import annotations

import csv
import io

import pandas as pd
import streamlit as st

from dashboard.formatting import neutralise, plain
from dashboard.ingest import Dataset, Mapping
from dashboard.ingest.reading import decode, sniff_delimiter
from dashboard.measures import Measure

ROLES = {"patient_id": "Patient id", "session_date": "Visit date", "session_type": "Session type (optional)",
         "infusion_number": "Infusion number (optional)"}


def what_we_read(dataset: Dataset, left_out_after_as_of: int) -> None:
    with st.expander(f"What we read: {dataset.rows_read:,} rows, {dataset.rows_used:,} used, "
                     f"{dataset.rows_rejected:,} rejected", expanded=False):
        for f in dataset.files:
            st.markdown(f"**{plain(f.name)}**: {plain(f.describe())}. Dates: {f.date_style_reason}. "
                        f"{f.rows_read:,} rows read, {f.rows_used:,} used, {f.rows_rejected:,} rejected.")
            for note in f.notes:
                st.caption(plain(note))
            st.dataframe(pd.DataFrame(f.columns, columns=["Column", "Read as", "How"]), hide_index=True)
        if left_out_after_as_of:
            st.caption(f"{left_out_after_as_of:,} visits are dated after the as-of date and left out of every number.")


def data_quality(dataset: Dataset) -> None:
    rejections = dataset.rejections()
    st.subheader("Data quality")
    if rejections.empty:
        st.success("Every row and value was used: nothing was rejected.")
        return
    st.caption("Nothing is dropped silently: each rejected row or value is listed with its file, line and reason.")
    by_reason = rejections.assign(reason=rejections["reason"].str.replace(r" line \d+$", "", regex=True)
                                  .str.replace(r"^exact repeat of .*", "exact repeat of an earlier row", regex=True))
    summary = by_reason.groupby("reason", as_index=False).size().rename(columns={"size": "count"})
    st.dataframe(summary.sort_values("count", ascending=False).rename(columns={"reason": "Reason", "count": "Count"}),
                 hide_index=True)
    with st.expander(f"All {len(rejections):,} rejections"):
        st.dataframe(rejections, hide_index=True)
    st.download_button("Download the rejections (CSV)", rejections_csv(rejections), "rejections.csv", "text/csv")


def rejections_csv(rejections: pd.DataFrame) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rejections.columns)
    for row in rejections.itertuples(index=False):
        writer.writerow([neutralise(str(v)) if v is not None else "" for v in row])
    return out.getvalue().encode("utf-8")


def mapping_step(files: list[tuple[str, bytes]], measures: dict[str, Measure], current: Mapping | None) -> None:
    """Choose the columns the dashboard could not recognise; the result can be saved for next month."""
    st.subheader("Map your columns")
    headers, preview = _headers_and_preview(files[0][1])
    if not headers:
        return
    st.caption(f"Preview of {plain(files[0][0])}:")
    st.dataframe(preview, hide_index=True)
    choices = {}
    cols = st.columns(4)
    for i, (role, label) in enumerate(ROLES.items()):
        choices[role] = cols[i].selectbox(label, ["(none)"] + headers, key=f"map_{role}")
    st.markdown("Score columns")
    cols = st.columns(4)
    for i, measure in enumerate(measures.values()):
        choices[measure.name] = cols[i % 4].selectbox(measure.label, ["(none)"] + headers, key=f"map_{measure.name}")
    columns = {header: role for role, header in choices.items() if header != "(none)"}
    mapping = Mapping(columns=columns, session_types=current.session_types if current else {},
                      date_style=current.date_style if current else "auto")
    left, right = st.columns(2)
    if left.button("Use this mapping", type="primary"):
        st.session_state["mapping"] = mapping
        st.rerun()
    right.download_button("Save this mapping (JSON)", mapping.to_json(), "column_mapping.json", "application/json")


def _headers_and_preview(data: bytes) -> tuple[list[str], pd.DataFrame]:
    if data.startswith(b"PK\x03\x04"):
        preview = pd.read_excel(io.BytesIO(data), dtype=str, nrows=5)
    else:
        text, _ = decode(data[:200_000])
        delimiter = sniff_delimiter(text)
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[:6]
        if not rows:
            return [], pd.DataFrame()
        width = len(rows[0])
        preview = pd.DataFrame([(r + [""] * width)[:width] for r in rows[1:]], columns=rows[0])
    return [str(c) for c in preview.columns], preview
