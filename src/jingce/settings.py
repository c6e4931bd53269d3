"""One typed settings object, read from ``JINGCE_*`` environment variables.

Built in the CLI entry point or the app factory and passed down; nothing reads the environment at
import time (habit 7 of DESIGN.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from jingce.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration.

    Attributes
    ----------
    data_dir : Path
        The data folder of the embedded default (``JINGCE_DATA``, default ``./jingce-data``).
    db_url : str
        SQLAlchemy URL of the registry (``JINGCE_DB_URL``; default a SQLite file in ``data_dir``).
    lake_dir : Path
        Root of the Parquet measurement lake (``JINGCE_LAKE``; default ``data_dir/lake``).
    engine : str
        Batch engine: ``local``, ``local[2]`` or ``spark://host:port`` (``JINGCE_ENGINE``).
    lang : str
        ``zh`` or ``en`` for user-facing text (``JINGCE_LANG``; default both).
    secret_key : str | None
        Secret for sessions and tokens (``JINGCE_SECRET_KEY``); no default outside demo mode.
    demo : bool
        Demo mode (``JINGCE_DEMO=1``): demo accounts and a demo secret are allowed.
    mqtt_url : str
        MQTT broker (``JINGCE_MQTT_URL``, default ``mqtt://127.0.0.1:1883``).
    """

    data_dir: Path = Path("jingce-data")
    db_url: str = ""
    lake_dir: Path = Path("")
    engine: str = "local"
    lang: str = "both"
    secret_key: str | None = None
    demo: bool = False
    mqtt_url: str = "mqtt://127.0.0.1:1883"

    def __post_init__(self) -> None:
        data_dir = Path(self.data_dir)
        object.__setattr__(self, "data_dir", data_dir)
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{(data_dir / 'registry.sqlite').as_posix()}")
        if str(self.lake_dir) in ("", "."):
            object.__setattr__(self, "lake_dir", data_dir / "lake")
        else:
            object.__setattr__(self, "lake_dir", Path(self.lake_dir))
        if self.lang not in ("zh", "en", "both"):
            raise InvalidInputError("must be zh, en or both", field="JINGCE_LANG")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Read ``JINGCE_*`` variables from ``environ`` (default ``os.environ``), then apply overrides."""
        env = os.environ if environ is None else environ
        s = cls(
            data_dir=Path(env.get("JINGCE_DATA", "jingce-data")),
            db_url=env.get("JINGCE_DB_URL", ""),
            lake_dir=Path(env.get("JINGCE_LAKE", "")),
            engine=env.get("JINGCE_ENGINE", "local"),
            lang=env.get("JINGCE_LANG", "both"),
            secret_key=env.get("JINGCE_SECRET_KEY") or None,
            demo=env.get("JINGCE_DEMO", "") in ("1", "true", "yes"),
            mqtt_url=env.get("JINGCE_MQTT_URL", "mqtt://127.0.0.1:1883"),
        )
        if overrides:
            if "data_dir" in overrides and "db_url" not in overrides and not env.get("JINGCE_DB_URL"):
                overrides["db_url"] = ""
            if "data_dir" in overrides and "lake_dir" not in overrides and not env.get("JINGCE_LAKE"):
                overrides["lake_dir"] = Path("")
            s = replace(s, **overrides)
        return s
