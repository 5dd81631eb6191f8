"""Everything that imports Streamlit: the sidebar, the panels, presentation mode, sign-in, uploads
and downloads. Thin: it draws what present/ and engine/ give it."""
