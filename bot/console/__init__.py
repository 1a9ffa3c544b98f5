"""The operations console: the nights, workers, schedules, drift and the automation rate in a browser, with
accounts, roles, an audit log of every action, `/metrics` for Prometheus and `/healthz` for a load balancer."""
