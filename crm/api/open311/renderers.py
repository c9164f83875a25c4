"""Open311 GeoReport v2 output: JSON, and XML with the specification's element names.

The format is the path's suffix (`services.json`, `services.xml`), nothing else: the Accept
header and `?format=` are ignored, and any other suffix is a 404 in Open311's error format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# The element that holds each item of a list, by the list's element name. A list under any
# other name repeats that element (`<value>a</value><value>b</value>`), as multivalue
# attributes are posted.
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "public_notes": "note",
}
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: Element, name: str, value: Any) -> None:
    if isinstance(value, list | tuple):
        item = XML_ITEMS.get(name)
        if item is None:
            for each in value:
                _append(parent, name, each)
            return
        element = SubElement(parent, name)
        for each in value:
            _append(element, item, each)
        return
    element = SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, each in value.items():
            _append(element, key, each)
    else:
        element.text = _text(value)


def to_xml(root_name: str, data: Any) -> bytes:
    """`data` (a list of items or a mapping of fields) as the document `<root_name>`."""
    root = Element(root_name)
    if isinstance(data, Mapping):
        for key, value in data.items():
            _append(root, key, value)
    elif isinstance(data, Sequence) and not isinstance(data, str):
        item = XML_ITEMS.get(root_name, "item")
        for value in data:
            _append(root, item, value)
    return XML_DECLARATION + tostring(root, encoding="unicode").encode()


class Open311JSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class Open311XMLRenderer(BaseRenderer):
    """Errors (status ≥ 400) are `<errors>`; otherwise the root is the view's `xml_root`."""

    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        context = renderer_context or {}
        response = context.get("response")
        if response is not None and response.status_code >= 400:
            root = "errors"
        else:
            root = getattr(context.get("view"), "xml_root", "response")
        return to_xml(root, data)


class SuffixNegotiation(DefaultContentNegotiation):
    """The renderer named by the path's suffix; an unknown suffix is a missing resource."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        for renderer in renderers:
            if renderer.format == (format_suffix or "").lower():
                return renderer, renderer.media_type
        raise NotFound(
            _("Format inconnu : « {format} ». Formats offerts : json, xml.").format(
                format=(format_suffix or "")[:20]
            )
        )
