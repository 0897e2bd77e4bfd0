"""Alert delivery: from jg.alerts.v1 to webhooks (signed) and Alertmanager, with its metrics."""
