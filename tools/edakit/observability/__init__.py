"""Observability: consumer lag for every broker (lag.py), its Prometheus exporter (exporter.py), the metric names both
share with the generated alert rules (alerts.py) and dashboards (dashboards.py) in metrics_names.py. See README.md."""
