#!/usr/bin/env bash
# Set up a virtual environment with the pinned packages (once) and start the dashboard on the
# bundled sample data at http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
# dashboard/serve.py: the app, with response headers that forbid framing (see its docstring).
exec .venv/bin/python -m streamlit run dashboard/serve.py "$@"
