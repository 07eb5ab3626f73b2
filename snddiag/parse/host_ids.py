"""What a guest's kernel and firmware say of the hypervisor under it, besides DMI.

Sources and the layouts seen:
- the kernel log's ACPI table lines, printed by acpi_tb_print_table_header()
  (drivers/acpi/acpica/tbprint.c): `ACPI: RSDP 0x00000000000E0000 000024 (v02 FIRECK)` and
  `ACPI: FACP 0x... 000114 (v06 FIRECK FCVMFADT 00000000 FCAT 20240119)`; kernels before 3.x
  wrote `ACPI: RSDP 000F8500, 0014 (r0 PTLTD )`. The OEM ID is the 6 characters after the
  revision.
- the raw header of a table in /sys/firmware/acpi/tables (OEM ID at bytes 10-15).
- x86's `Hypervisor detected: KVM` (arch/x86/kernel/cpu/hypervisor.c prints the name of the
  hypervisor_x86 it picked: KVM, Microsoft Hyper-V, VMware, Xen HVM, Xen PV, ACRN, ...).
- /proc/cpuinfo's `flags` lines (the `hypervisor` bit, CPUID leaf 1 ECX bit 31).
"""

from __future__ import annotations

import re

from snddiag.parse import Parsed
from snddiag.patterns import compiled_later

# Bounded repeats between literals: linear on a long line.
_ACPI_TABLE = compiled_later(
    r"ACPI: (RSDP|XSDT|RSDT|FACP|DSDT) [^(\n]{0,48}\([vr]\d{1,2} ([^)\n]{1,6})", re.MULTILINE
)
_HYPERVISOR = re.compile(r"Hypervisor detected: ([^\n]{1,40})")
_PREFERRED_TABLES = ("RSDP", "XSDT", "RSDT", "FACP", "DSDT")
ACPI_HEADER_BYTES = 36


def parse_acpi_oem_ids(log: str) -> Parsed[dict[str, str]]:
    """The kernel log's ACPI table lines -> OEM ID by table signature (first seen wins)."""
    found: dict[str, str] = {}
    for match in _ACPI_TABLE.finditer(log):
        oem = match.group(2).strip()
        if oem:
            found.setdefault(match.group(1), oem)
    return Parsed(found)


def first_oem_id(oem_ids: dict[str, str]) -> str | None:
    """The OEM ID of the root table, else of the first table that has one."""
    return next((oem_ids[t] for t in _PREFERRED_TABLES if t in oem_ids), None)


def parse_acpi_table_header(data: bytes) -> Parsed[str | None]:
    """The OEM ID in an ACPI table's header (signature, length, revision, checksum, OEM ID)."""
    if len(data) < 16:
        return Parsed(None)
    oem = data[10:16].decode("ascii", errors="replace").strip(" \x00")
    printable = oem.isprintable() and "\ufffd" not in oem
    return Parsed(oem if oem and printable else None)


def parse_hypervisor_line(log: str) -> Parsed[str | None]:
    """`Hypervisor detected: NAME` -> NAME (the last one, as a kexec'd log may hold two)."""
    names = [m.group(1).strip() for m in _HYPERVISOR.finditer(log)]
    return Parsed(names[-1] if names else None)


def parse_cpu_hypervisor_flag(cpuinfo: str) -> Parsed[bool | None]:
    """/proc/cpuinfo's `flags : ... hypervisor ...`; None when no flags line was read (arm)."""
    flags_lines = [line for line in cpuinfo.splitlines() if line.startswith("flags")]
    if not flags_lines:
        return Parsed(None)
    return Parsed(any("hypervisor" in line.partition(":")[2].split() for line in flags_lines))
