"""Observability: consumer lag for every broker (lag.py), its Prometheus exporter (exporter.py) and the metric names
both share with the generated alert rules and dashboards (metrics_names.py)."""
