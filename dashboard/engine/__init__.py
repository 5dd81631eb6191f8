"""Numbers in, tables out: the metrics (the SQL in queries/), small-cell suppression and funnel limits. No Streamlit, no words."""
