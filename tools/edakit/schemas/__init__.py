"""Event schemas: the registry kept in `schemas/`, Confluent-exact compatibility, payload validation, REST serving.

Public API (other tooling drives it): `check_compatibility`, `check_repository`, `validate_payload`,
`validate_document` (an in-memory payload).
"""

from edakit.schemas.compat import LEVELS, CompatibilityResult, check_compatibility
from edakit.schemas.errors import SchemaError
from edakit.schemas.repo import Problem, check_repository
from edakit.schemas.validate import PayloadReport, validate_document, validate_payload

__all__ = ["LEVELS", "CompatibilityResult", "PayloadReport", "Problem", "SchemaError", "check_compatibility",
           "check_repository", "validate_document", "validate_payload"]
