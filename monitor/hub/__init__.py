"""The district hub: receives what the sites publish over MQTT, stores it once per id, serves a dashboard."""
