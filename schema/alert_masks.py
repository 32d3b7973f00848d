"""The masks a reader's grants put on the personal values in an alert's evidence and message.

An alert's ID number, and the birth dates it contains (which an ID number's masked digits are),
follow the reader's access to `Alert.idNumber`; names follow `Person.name`. Whatever the reader
may not read whole is masked as the field would be (schema/masking.py): ID numbers and names
masked, birth dates coarsened to the year. Institution alerts (an invalid credit code) carry no
personal values.
"""

from __future__ import annotations

from typing import Any

from hub.supervision.alerts import Alert
from hub.supervision.model import NO_MASKS, Masks
from policies.access import Access
from policies.grants import Grants
from resolvers.context import required
from schema.masking import mask_id_number, mask_name, year_only

ALL_MASKED: Masks = {"id_number": mask_id_number, "birth": year_only, "name": mask_name}


def masks_for(grants: Grants) -> Masks:
    """Per kind of personal value, the mask this role set needs (absent: shown whole)."""
    masks: dict[str, Any] = {}
    if grants.access("Alert", "idNumber") is not Access.READ:
        masks.update(id_number=mask_id_number, birth=year_only)
    if grants.access("Person", "name") is not Access.READ:
        masks["name"] = mask_name
    return masks


def reader_masks(info: Any, alert: Alert) -> Masks:
    """The masks for the request's reader on one alert (none on an institution alert)."""
    if alert.id_number is None:
        return NO_MASKS
    return masks_for(required(info.context).grants)
