"""Building blocks shared by the cameras.yaml models: the strict base model and the slug type."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def check_slug(value: str) -> str:
    """value if it is a slug of 1-32 lowercase letters, digits, '-' or '_'; ValueError otherwise."""
    if not SLUG.match(value):
        raise ValueError(
            "must be a slug of 1-32 lowercase letters, digits, '-' or '_' "
            f"starting with a letter or digit, got {value!r}"
        )
    return value


Slug = Annotated[str, AfterValidator(check_slug)]


class StrictModel(BaseModel):
    """A cameras.yaml section: unknown keys are errors; numbers are accepted where text is expected."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
