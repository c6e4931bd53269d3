import pickle

import pytest

from jingce.errors import FormatError, InvalidInputError, JingceError, NotFoundError


def test_leaves_subclass_builtins():
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(FormatError, InvalidInputError)
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(NotFoundError, JingceError)


def test_message_names_file_line_field_and_pickles():
    err = FormatError("expected a number, got 'abc'", file="a.csv", line=7, field="value")
    assert str(err) == "file a.csv, line 7, field 'value': expected a number, got 'abc'"
    assert "第 7 行" in err.bilingual()
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is FormatError
    assert back.details == {"file": "a.csv", "line": 7, "field": "value"}
    assert str(back) == str(err)


def test_error_shape_is_pinned():
    err = InvalidInputError("subgroup_size must be an integer >= 2", argument="subgroup_size", rule="x")
    d = err.to_dict()
    assert set(d) == {"error"}
    assert set(d["error"]) == {"code", "message", "message_zh", "details"}
    assert d["error"]["code"] == "invalid_input"
    assert d["error"]["details"]["argument"] == "subgroup_size"


def test_raise_as_builtin():
    with pytest.raises(ValueError):
        raise InvalidInputError("bad", argument="x")
