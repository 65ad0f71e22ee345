"""The dashboard: server-rendered pages with Plotly charts built from the library's results."""
