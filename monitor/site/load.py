"""Loading cameras.yaml for a command: the config, or one line per problem on stderr and exit 1."""

from __future__ import annotations

import sys

import click

from monitor.site.config import Config, ConfigError, load_config


def load_or_exit(config_path: str) -> Config:
    """Load the config or exit 1 with one line per problem (for CLI commands, never a traceback)."""
    try:
        return load_config(config_path)
    except ConfigError as err:
        for line in err.problems:
            click.echo(line, err=True)
        sys.exit(1)
