"""Digital calibration certificates in and out of the store (PTB DCC 3.1.2).

:func:`import_dcc` lands the calibration(s) a certificate states: the calibrated item(s) are
found among the registered instruments by their identifications, the calibration laboratory by
its code or name, the measuring equipment by its identifications — it becomes the calibration's
``standard_ids``, the traceability edges. Everything is resolved and checked before anything is
written; a certificate already imported (same lab and certificate number) lands nothing.
:func:`export_dcc` writes a recorded calibration as a certificate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from jingce.errors import ConflictError, InvalidInputError, NotFoundError
from jingce.formats import dcc
from jingce.model import Calibration, Instrument, Lab
from jingce.store import Actor, Store

# identification issuers in the order an instrument's code is looked for among them
_ISSUERS = ("customer", "owner", "calibrationLaboratory", "other", "manufacturer")


@dataclass(frozen=True, slots=True)
class CertificateImport:
    """Outcome of :func:`import_dcc`: the calibrations recorded (or found already recorded)."""

    certificate_no: str
    lab: Lab
    calibrations: tuple[Calibration, ...]
    created: bool

    def message(self) -> str:
        if not self.created:
            return (f"证书 {self.lab.code}/{self.certificate_no} 已导入过，未做任何更改 / certificate "
                    f"{self.lab.code}/{self.certificate_no} was already imported; nothing changed")
        return (f"已导入证书 {self.lab.code}/{self.certificate_no}：{len(self.calibrations)} 条校准记录 / imported "
                f"certificate {self.lab.code}/{self.certificate_no}: {len(self.calibrations)} calibration(s)")


def import_dcc(store: Store, actor: Actor, data: bytes, name: str = "<dcc>", *,
               validity_days: int | None = None) -> CertificateImport:
    """Record the calibration(s) a DCC states.

    Parameters
    ----------
    data, name : bytes, str
        The certificate and its file name (for messages).
    validity_days : int, optional
        Validity when the certificate gives no recalibration date (default: the instrument's
        calibration interval).

    Returns
    -------
    CertificateImport
        ``created`` is False when this lab's certificate number was already recorded.

    Raises
    ------
    FormatError
        The file is not a valid DCC (file, element path, field).
    NotFoundError
        The laboratory, an item or a measuring equipment is not registered (names the element).
    InvalidInputError
        No validity can be determined, an identification matches two instruments, or the
        calibration breaks a model rule.
    """
    cert = dcc.read(data, name)
    summary = cert.summary()
    lab = _lab(store, actor, cert, name)
    instruments = [_instrument(store, actor, item.identifications, item.element, name, "dcc:item")
                   for item in cert.items]
    if len({i.id for i in instruments}) != len(instruments):
        raise InvalidInputError("two items of the certificate are the same instrument", file=name,
                                element="/dcc:digitalCalibrationCertificate/dcc:administrativeData/dcc:items",
                                field="dcc:item")
    standards = []
    for eq in cert.equipment:
        std = _instrument(store, actor, eq.identifications, eq.element, name, "dcc:measuringEquipment")
        if std.id not in {s.id for s in standards}:
            standards.append(std)
    numbers = _certificate_numbers(cert)
    existing = []
    for inst, number in zip(instruments, numbers, strict=True):
        found = [c for c in store.calibrations(actor, inst.id) if c.lab_id == lab.id and c.certificate_no == number]
        existing.extend(found)
    if existing:
        if len(existing) != len(instruments):
            raise ConflictError(f"certificate {cert.unique_identifier!r} of {lab.code} is only partly recorded",
                                file=name, field="dcc:uniqueIdentifier")
        return CertificateImport(cert.unique_identifier, lab, tuple(existing), created=False)
    cals = []
    for inst, number, item in zip(instruments, numbers, cert.items, strict=True):
        valid_until = summary.valid_until
        if valid_until is None:
            days = validity_days or inst.calibration_interval_days
            if not days:
                raise InvalidInputError(
                    "the certificate gives no recalibration date and the instrument no calibration interval; "
                    "give the validity in days", file=name,
                    element="/dcc:digitalCalibrationCertificate/dcc:administrativeData/dcc:statements",
                    field="basic_recalibration")
            valid_until = summary.calibrated_at + dt.timedelta(days=days)
        try:
            cal = Calibration(
                instrument_id=inst.id, lab_id=lab.id, certificate_no=number, calibrated_at=summary.calibrated_at,
                valid_until=valid_until, result=summary.result or "pass", error_as_found=summary.error_as_found,
                error_as_left=summary.error_as_left, expanded_uncertainty=summary.expanded_uncertainty,
                coverage_factor=summary.coverage_factor, coverage_probability=summary.coverage_probability,
                unit=summary.unit, standard_ids=tuple(s.id for s in standards))
        except InvalidInputError as exc:
            raise InvalidInputError(exc.message, file=name, element=item.element,
                                    field=exc.details.get("field")) from None
        for std in standards:
            chain = store.calibration_chain(actor, std.id, summary.calibrated_at)
            if any(n.instrument_id == inst.id for n in chain.nodes):
                raise ConflictError(f"{inst.code} would be calibrated against {std.code}, which is traced to "
                                    f"{inst.code}: the chain would be a cycle", file=name, field="standard_ids")
        cals.append(cal)
    return CertificateImport(cert.unique_identifier, lab, tuple(_add(store, actor, cals)), created=True)


def _add(store: Store, actor: Actor, cals: list[Calibration]) -> list[Calibration]:
    """Record the calibrations in one transaction when the store offers it; otherwise one by one
    after every check above has passed (a concurrent writer could still interleave)."""
    add_many = getattr(store, "add_calibrations", None)
    if add_many is not None:
        return list(add_many(actor, cals))
    return [store.add_calibration(actor, c) for c in cals]


def _certificate_numbers(cert: dcc.DccCertificate) -> list[str]:
    """The certificate number per item: the DCC's uniqueIdentifier, with ``/2``, ``/3`` ... for the
    further items of a certificate covering several (a lab's certificate numbers are unique)."""
    uid = cert.unique_identifier
    return [uid if k == 0 else f"{uid}/{k + 1}" for k in range(len(cert.items))]


def _lab(store: Store, actor: Actor, cert: dcc.DccCertificate, name: str) -> Lab:
    labs = store.list_labs(actor)
    element = "/dcc:digitalCalibrationCertificate/dcc:administrativeData/dcc:calibrationLaboratory"
    if cert.laboratory_code:
        found = [lab for lab in labs if lab.code == cert.laboratory_code]
        if found:
            return found[0]
    names = {t.strip() for _lang, t in cert.laboratory.name if t.strip()}
    found = [lab for lab in labs if lab.name in names or lab.code in names]
    if not found:
        if cert.laboratory_code:
            raise NotFoundError(f"no registered lab has the code {cert.laboratory_code!r} or is named "
                                f"{' / '.join(sorted(names))!r}", file=name,
                                element=element + "/dcc:calibrationLaboratoryCode",
                                field="dcc:calibrationLaboratoryCode")
        raise NotFoundError(f"no registered lab is named {' / '.join(sorted(names))!r}", file=name,
                            element=element + "/dcc:contact/dcc:name", field="dcc:name")
    if len(found) > 1:
        raise InvalidInputError(f"the lab name matches {len(found)} labs: {', '.join(x.code for x in found)}",
                                file=name, element=element + "/dcc:contact/dcc:name", field="dcc:name")
    return found[0]


def _instrument(store: Store, actor: Actor, ids: Sequence[dcc.Identification], element: str, name: str,
                what: str) -> Instrument:
    ordered = sorted(ids, key=lambda i: _ISSUERS.index(i.issuer) if i.issuer in _ISSUERS else len(_ISSUERS))
    found: dict[int, Instrument] = {}
    for ident in ordered:
        try:
            inst = store.get_instrument(actor, code=ident.value)
        except NotFoundError:
            continue
        found.setdefault(inst.id, inst)
    if not found:
        tried = ", ".join(f"{i.issuer} {i.value!r}" for i in ordered) or "none given"
        raise NotFoundError(f"no registered instrument has any of the identifications ({tried})", file=name,
                            element=element + ("/dcc:identifications" if ids else ""), field="dcc:identification")
    if len(found) > 1:
        raise InvalidInputError(f"the identifications match {len(found)} instruments: "
                                f"{', '.join(i.code for i in found.values())}", file=name,
                                element=element + "/dcc:identifications", field="dcc:identification")
    return next(iter(found.values()))


def export_dcc(store: Store, actor: Actor, calibration_id: int, *, country_code: str = "CN") -> bytes:
    """A recorded calibration as a DCC 3.1.2 document (validated against the shipped schemas).

    Raises
    ------
    NotFoundError
        No calibration with that id among the instruments the actor may see.
    """
    cal, inst = _calibration(store, actor, calibration_id)
    lab = store.get_lab(actor, cal.lab_id)
    standards = [store.get_instrument(actor, sid) for sid in cal.standard_ids]
    std_certs = {}
    for std in standards:
        before = [c for c in store.calibrations(actor, std.id) if c.calibrated_at <= cal.calibrated_at]
        if before:
            std_certs[std.id] = before[-1].certificate_no
    if inst.enterprise_id is not None:
        customer = store.get_enterprise(actor, inst.enterprise_id).name
    elif inst.lab_id is not None:
        customer = store.get_lab(actor, inst.lab_id).name
    else:
        customer = "-"
    cert = dcc.certificate_from_calibration(cal, inst, lab, standards, customer=customer, country_code=country_code,
                                            issued_by=actor.username, standard_certificates=std_certs)
    return dcc.write(cert)


def _calibration(store: Store, actor: Actor, calibration_id: int) -> tuple[Calibration, Instrument]:
    get_one = getattr(store, "get_calibration", None)
    if get_one is not None:
        cal = get_one(actor, calibration_id)
        return cal, store.get_instrument(actor, cal.instrument_id)
    for inst in store.list_instruments(actor):  # until the store can fetch a calibration by id
        for cal in store.calibrations(actor, inst.id):
            if cal.id == calibration_id:
                return cal, inst
    raise NotFoundError(f"calibration {calibration_id} not found", field="calibration_id")
