"""The QIF 3 characteristic types jingce reads and writes, with the kind of value each carries.

``VALUE_KIND`` was derived from ``QIFLibrary/Characteristics.xsd`` (the type of the ``Value``
element of each ``*CharacteristicMeasurement``); ``tests/unit/test_qif_types.py`` checks it
against the shipped schema, so a schema update cannot silently disagree with it.

References
----------
.. [1] ANSI/DMSC QIF 3.0 (ISO 23952:2020), QIFLibrary/Characteristics.xsd, section 6.6
       (characteristics: definitions, nominals, items, measurements).
"""

from __future__ import annotations

# value kind of each characteristic type (None: the measurement carries no single numeric Value)
VALUE_KIND: dict[str, str | None] = {
    "Angle": "angular", "AngleBetween": "angular", "AngleFrom": "angular", "AngularCoordinate": "angular",
    "Angularity": "linear", "Chord": "linear", "CircularRunout": "linear", "Circularity": "linear",
    "Coaxiality": "linear", "Concentricity": "linear", "ConicalTaper": "linear", "Conicity": "linear",
    "CurveLength": "linear", "Cylindricity": "linear", "Depth": "linear", "Diameter": "linear",
    "DistanceBetween": "linear", "DistanceFrom": "linear", "Ellipticity": "linear", "FlatTaper": "linear",
    "Flatness": "linear", "Height": "linear", "Length": "linear", "LineProfile": "linear",
    "LinearCoordinate": "linear", "OtherForm": "linear", "Parallelism": "linear", "Perpendicularity": "linear",
    "PointProfile": "linear", "Position": "linear", "Radius": "linear", "SphericalDiameter": "linear",
    "SphericalRadius": "linear", "Sphericity": "linear", "Square": "linear", "Straightness": "linear",
    "SurfaceProfile": "linear", "SurfaceProfileNonUniform": "linear", "SurfaceTexture": None,
    "Symmetry": "linear", "Thickness": "linear", "Thread": None, "Toroidicity": "linear",
    "TotalRunout": "linear", "UserDefinedAngular": "angular", "UserDefinedArea": "area",
    "UserDefinedAttribute": "text", "UserDefinedForce": "force", "UserDefinedLinear": "linear",
    "UserDefinedMass": "mass", "UserDefinedPressure": "pressure", "UserDefinedSpeed": "speed",
    "UserDefinedTemperature": "temperature", "UserDefinedTime": "time", "UserDefinedUnit": "userdefinedunit",
    "Width": "linear",
    **{f"Weld{w}": None for w in ("Bevel", "Compound", "Edge", "Fillet", "FlareBevel", "FlareV", "J", "Plug",
                                  "Scarf", "Seam", "Slot", "Spot", "Square", "Stud", "Surfacing", "U", "V")},
}

# geometric tolerances: a zone width (ToleranceValue) instead of a +/- Tolerance
ZONE_TYPES = frozenset({
    "Angularity", "CircularRunout", "Circularity", "Coaxiality", "Concentricity", "Conicity", "Cylindricity",
    "Ellipticity", "Flatness", "LineProfile", "OtherForm", "Parallelism", "Perpendicularity", "PointProfile",
    "Position", "Sphericity", "Straightness", "SurfaceProfile", "SurfaceProfileNonUniform", "Symmetry",
    "Toroidicity", "TotalRunout",
})
# profiles measure a signed deviation inside a zone placed by OuterDisposition (uniform when absent)
PROFILE_TYPES = frozenset({"LineProfile", "PointProfile", "SurfaceProfile", "SurfaceProfileNonUniform"})

# the element of FileUnits/PrimaryUnits, and the Value attribute naming another unit, per value kind
UNIT_ELEMENT = {"linear": "LinearUnit", "angular": "AngularUnit", "area": "AreaUnit", "force": "ForceUnit",
                "mass": "MassUnit", "pressure": "PressureUnit", "speed": "SpeedUnit",
                "temperature": "TemperatureUnit", "time": "TimeUnit"}
UNIT_ATTRIBUTE = {"linear": "linearUnit", "angular": "angularUnit", "area": "areaUnit", "force": "forceUnit",
                  "mass": "massUnit", "pressure": "pressureUnit", "speed": "speedUnit",
                  "temperature": "temperatureUnit", "time": "timeUnit", "userdefinedunit": "unitName"}
# the SI unit each kind converts to (the SIUnitName written, checked against UnitConversion/Factor)
SI_UNIT = {"linear": "meter", "angular": "radian", "area": "square meter", "force": "newton", "mass": "kilogram",
           "pressure": "pascal", "speed": "meter per second", "temperature": "kelvin", "time": "second"}
# SIUnitName values (fixed by the schema) as pint understands them
SI_PINT = {"square meter": "m^2", "meter per second": "m/s"}
# default primary units when a file has no FileUnits entry for the kind (QIF documents normally do)
DEFAULT_UNIT = {"linear": "mm", "angular": "degree"}
# pint dimensionality of each kind
DIMENSION = {"linear": "[length]", "angular": "dimensionless", "area": "[length] ** 2", "force": "[force]",
             "mass": "[mass]", "pressure": "[pressure]", "speed": "[length] / [time]",
             "temperature": "[temperature]", "time": "[time]"}

# jingce characteristic kind of each QIF type (types not listed are "other")
JINGCE_KIND = {
    "Diameter": "diameter", "SphericalDiameter": "diameter", "Radius": "size", "SphericalRadius": "size",
    "Length": "length", "CurveLength": "length", "Chord": "length", "Height": "length", "Width": "length",
    "Depth": "length", "Thickness": "length", "Square": "length", "UserDefinedLinear": "length",
    "DistanceBetween": "distance", "DistanceFrom": "distance", "LinearCoordinate": "distance",
    "Angle": "angle", "AngleBetween": "angle", "AngleFrom": "angle", "AngularCoordinate": "angle",
    "UserDefinedAngular": "angle", "Position": "position", "Flatness": "flatness", "Straightness": "straightness",
    "Circularity": "roundness", "Cylindricity": "cylindricity", "PointProfile": "profile",
    "LineProfile": "profile", "SurfaceProfile": "profile", "SurfaceProfileNonUniform": "profile",
    "Parallelism": "parallelism", "Perpendicularity": "perpendicularity", "Angularity": "angularity",
    "CircularRunout": "runout", "TotalRunout": "runout", "Concentricity": "concentricity",
    "Coaxiality": "concentricity", "SurfaceTexture": "roughness", "UserDefinedTemperature": "temperature",
    "UserDefinedMass": "mass", "UserDefinedForce": "force", "UserDefinedPressure": "pressure",
}

# the QIF type written for a jingce characteristic of a kind with a length unit: only types that
# need nothing jingce does not know (no datum reference frame, zone shape or analysis mode);
# other kinds are written as UserDefinedLinear and keep their kind in a jingce:kind attribute
TYPE_FOR_KIND = {
    "diameter": "Diameter", "length": "Length", "flatness": "Flatness", "roundness": "Circularity",
    "cylindricity": "Cylindricity", "profile": "SurfaceProfile", "runout": "CircularRunout",
}
TYPE_FOR_VALUE_KIND = {"linear": "UserDefinedLinear", "angular": "UserDefinedAngular",
                       "area": "UserDefinedArea", "force": "UserDefinedForce", "mass": "UserDefinedMass",
                       "pressure": "UserDefinedPressure", "speed": "UserDefinedSpeed",
                       "temperature": "UserDefinedTemperature", "time": "UserDefinedTime"}

CRITICALITY = {"CRITICAL": "critical", "KEY": "critical", "MAJOR": "major", "MINOR": "minor"}
