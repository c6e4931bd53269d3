"""Pure numerics: numpy arrays in, frozen dataclasses out. No IO, no database, no pandas.

Each kernel validates its input once in a private ``_<name>_iv`` function (raising
:class:`jingce.errors.InvalidInputError` naming the argument and the rule) and then computes.
"""
