"""Operating the site: camera health, alert notifications and Prometheus metrics."""
