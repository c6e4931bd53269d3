"""The web pages (server-rendered, Apache ECharts in the browser) on top of the REST API.

``create_service(settings=None, *, store=None)`` is the whole service: the API plus the pages.
"""

from jingce.web.service import create_service

__all__ = ["create_service"]
