"""Outcomes dashboard for ketamine infusion clinics: ingest, metrics, charts, app and export."""
