"""Event-store applications: pyeventsourcing's Application with the schema mapping, configured from one URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import psycopg.conninfo
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.utils import strtobool

from edakit.es.mapping import EventSchemas, SchemaMapper

STORE_URLS = "sqlite:PATH or postgresql://... (a libpq URL with host, user and dbname)"
VALIDATE_SCHEMAS = "VALIDATE_SCHEMAS"


class StoreUrlError(ValueError):
    """A store URL that names no database we can open."""


def store_env(url: str) -> dict[str, str]:
    """pyeventsourcing environment settings for the store at `url` (see STORE_URLS)."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            info = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreUrlError(f"store {url.split('@')[-1]!r}: not a libpq URL ({exc})") from None
        missing = [k for k in ("dbname", "host", "user") if not info.get(k)]
        if missing:
            raise StoreUrlError(f"store URL: missing {', '.join(missing)} (expected {STORE_URLS})")
        return {"PERSISTENCE_MODULE": "edakit.es.postgres:KitPostgresFactory",
                "POSTGRES_DBNAME": str(info["dbname"]), "POSTGRES_HOST": str(info["host"]),
                "POSTGRES_PORT": str(info.get("port") or 5432), "POSTGRES_USER": str(info["user"]),
                "POSTGRES_PASSWORD": str(info.get("password") or "")}
    scheme, _, path = url.partition(":")
    if scheme == "sqlite" and path:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    raise StoreUrlError(f"store {url!r}: expected {STORE_URLS}")


class ConcurrencyConflict(IntegrityError):
    """Another writer committed a version of the stream first (the expected-version check): reload and retry."""


class SchemaApplication(Application[Any]):
    """An Application whose registered events are stored as schema payloads (`edakit.es.mapping`).

    Subclasses set `schemas_root` and implement `register_events(schemas)`. Validation on save and read is on;
    `validate_schemas = False` on the class, or VALIDATE_SCHEMAS=no in its environment, turns it off."""

    schemas_root: ClassVar[Path] = Path("schemas")
    validate_schemas: ClassVar[bool] = True
    _schemas: ClassVar[EventSchemas | None] = None

    @classmethod
    def register_events(cls, schemas: EventSchemas) -> None:
        raise NotImplementedError(f"{cls.__name__}.register_events(schemas) must register the event classes")

    @classmethod
    def event_schemas(cls) -> EventSchemas:
        if cls.__dict__.get("_schemas") is None:
            schemas = EventSchemas(cls.schemas_root)
            cls.register_events(schemas)
            cls._schemas = schemas
        return cls.__dict__["_schemas"]

    def construct_mapper(self) -> Mapper[Any]:
        default = "yes" if self.validate_schemas else "no"
        return SchemaMapper(self.construct_transcoder(), self.factory.compressor(), self.factory.cipher(),
                            schemas=self.event_schemas(),
                            validate=strtobool(self.env.get(VALIDATE_SCHEMAS, default) or default))

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's save; a version another writer committed first is a ConcurrencyConflict naming the
        streams (the library raises the database's unique-key error)."""
        try:
            return super().save(*objs, **kwargs)
        except ConcurrencyConflict:
            raise
        except IntegrityError as exc:
            streams = ", ".join(f"{getattr(o, 'id', o)} at version {getattr(o, 'version', '?')}" for o in objs)
            raise ConcurrencyConflict(f"concurrent write: another writer committed first ({streams}); reload the "
                                      "aggregate and retry the command") from exc
