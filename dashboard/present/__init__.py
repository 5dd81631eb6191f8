"""Tables into words, charts and the report: headlines, labels, formatting, published figures,
Altair charts, the HTML report. No Streamlit."""
