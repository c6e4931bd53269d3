"""The REST API (FastAPI): a thin client of the services and the store."""

from jingce.api.app import create_app

__all__ = ["create_app"]
