"""One error tree for jingce.

Every error is a :class:`JingceError`; the leaves also subclass the builtin a caller expects
(``InvalidInputError`` is a ``ValueError``, ``NotFoundError`` a ``LookupError``), carry structured
fields in ``details`` and pickle (they cross process and Spark worker boundaries).

Messages are English with the structured location first; :meth:`JingceError.bilingual` gives the
Chinese and English text shown to users.
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type, message: str, details: dict[str, Any]) -> JingceError:
    return cls(message, **details)


class JingceError(Exception):
    """Base of all jingce errors.

    Parameters
    ----------
    message : str
        English description of what is wrong and what was expected.
    **details
        Structured fields (``argument``, ``rule``, ``file``, ``line``, ``field`` ...).
    """

    code = "jingce_error"
    message_zh = "精测错误"

    def __init__(self, message: str, **details: Any) -> None:
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}
        super().__init__(self._full_message())

    def _location(self) -> str:
        d = self.details
        parts = []
        if "file" in d:
            parts.append(f"file {d['file']}")
        if "line" in d:
            parts.append(f"line {d['line']}")
        if "element" in d:
            parts.append(f"element {d['element']}")
        if "field" in d:
            parts.append(f"field '{d['field']}'")
        if "argument" in d and "field" not in d:
            parts.append(f"argument '{d['argument']}'")
        return ", ".join(parts)

    def _location_zh(self) -> str:
        d = self.details
        parts = []
        if "file" in d:
            parts.append(f"文件 {d['file']}")
        if "line" in d:
            parts.append(f"第 {d['line']} 行")
        if "element" in d:
            parts.append(f"元素 {d['element']}")
        if "field" in d:
            parts.append(f"字段 '{d['field']}'")
        if "argument" in d and "field" not in d:
            parts.append(f"参数 '{d['argument']}'")
        return "，".join(parts)

    def _full_message(self) -> str:
        loc = self._location()
        return f"{loc}: {self.message}" if loc else self.message

    def bilingual(self) -> str:
        """Return the message in Chinese and English (``中文 / English``)."""
        loc_zh = self._location_zh()
        zh = f"{self.message_zh}（{loc_zh}）" if loc_zh else self.message_zh
        return f"{zh} / {self._full_message()}"

    def to_dict(self) -> dict[str, Any]:
        """The pinned JSON shape of an error: ``{"error": {"code", "message", "message_zh", "details"}}``."""
        return {
            "error": {
                "code": self.code,
                "message": self._full_message(),
                "message_zh": self.bilingual().split(" / ", 1)[0],
                "details": {k: _jsonable(v) for k, v in self.details.items()},
            }
        }

    def __reduce__(self):  # pickle with structured fields intact
        return (_rebuild, (type(self), self.message, self.details))


def _jsonable(v: Any) -> Any:
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return str(v)


class InvalidInputError(JingceError, ValueError):
    """Input that breaks a rule: names the argument (or file, line and field) and the rule."""

    code = "invalid_input"
    message_zh = "输入无效"


class FormatError(InvalidInputError):
    """A file or message that does not follow its format; names file, line or element, and field."""

    code = "format_error"
    message_zh = "文件格式错误"


class NotFoundError(JingceError, LookupError):
    """Something that does not exist, or that the acting user may not see (never says which)."""

    code = "not_found"
    message_zh = "未找到"


class PermissionDeniedError(JingceError, PermissionError):
    """The acting user's role does not allow the operation."""

    code = "permission_denied"
    message_zh = "无权限"


class AuthenticationError(JingceError, PermissionError):
    """Missing or wrong credentials."""

    code = "unauthenticated"
    message_zh = "未认证"


class ConflictError(JingceError):
    """The operation conflicts with the current state (e.g. a duplicate key)."""

    code = "conflict"
    message_zh = "冲突"


class AuditError(JingceError):
    """The audit chain does not verify: an entry was edited, inserted or deleted."""

    code = "audit_broken"
    message_zh = "审计链校验失败"


class DependencyMissingError(JingceError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    code = "dependency_missing"
    message_zh = "缺少可选依赖"


class JingceWarning(UserWarning):
    """Legal but degenerate input (zero spread, too few points for a reliable estimate)."""


def require_extra(module: str, extra: str):
    """Import an optional heavy dependency lazily, or raise with the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyMissingError(
            f"'{module}' is needed for this; install it with: pip install 'jingce[{extra}]'",
            module=module,
            extra=extra,
        ) from exc
