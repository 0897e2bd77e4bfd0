"""Alert delivery: from jg.alerts.v2 to webhooks (signed) and Alertmanager, with its metrics."""
