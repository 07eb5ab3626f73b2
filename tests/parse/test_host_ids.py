"""What a guest's kernel log, ACPI tables and cpuinfo say of its hypervisor."""

from __future__ import annotations

import time

import pytest

from snddiag.parse.host_ids import (
    first_oem_id,
    parse_acpi_oem_ids,
    parse_acpi_table_header,
    parse_cpu_hypervisor_flag,
    parse_hypervisor_line,
)
from tests.guests import guest_evidence, guest_text

FIRECRACKER = "firecracker-no-modules"


def test_firecracker_log_names_fireck_and_kvm() -> None:
    log = guest_text(FIRECRACKER, "cmd/dmesg")
    oem_ids = parse_acpi_oem_ids(log).value
    assert oem_ids["RSDP"] == "FIRECK"
    assert oem_ids["DSDT"] == "FIRECK"
    assert first_oem_id(oem_ids) == "FIRECK"
    assert parse_hypervisor_line(log).value == "KVM"


def test_qemu_guest_log_names_bochs_and_no_hypervisor_under_tcg() -> None:
    log = guest_text("healthy-pci", "cmd/dmesg")
    assert first_oem_id(parse_acpi_oem_ids(log).value) == "BOCHS"
    assert parse_hypervisor_line(log).value is None


def test_the_fadt_header_of_this_machine_names_firecracker() -> None:
    entry = guest_evidence(FIRECRACKER).get("sys/firmware/acpi/tables/FACP")
    assert entry is not None
    assert parse_acpi_table_header(entry.data).value == "FIRECK"


def test_cpuinfo_of_this_machine_has_the_hypervisor_flag() -> None:
    assert parse_cpu_hypervisor_flag(guest_text(FIRECRACKER, "proc/cpuinfo")).value is True


# Lines in the layouts kernels print (drivers/acpi/acpica/tbprint.c; before 3.x "rN" and a
# comma), with the OEM IDs of public guest logs.
@pytest.mark.parametrize(
    ("line", "table", "oem"),
    [
        ("ACPI: RSDP 0x00000000000E0000 000024 (v02 VBOX  )", "RSDP", "VBOX"),
        ("ACPI: RSDP 0x00000000000E0000 000024 (v02 VRTUAL)", "RSDP", "VRTUAL"),
        ("ACPI: DSDT 0x00000000001011B8 01E191 (v02 MSFTVM DSDT01   00000001 MSFT 05000000)",
         "DSDT", "MSFTVM"),
        ("ACPI: DSDT 0x000000007FFE0040 0020CB (v06 CLOUDH CHDSDT   00000001 RVAT 00000001)",
         "DSDT", "CLOUDH"),
        ("ACPI: RSDP 000F8500, 0014 (r0 PTLTD )", "RSDP", "PTLTD"),
    ],
)  # fmt: skip
def test_acpi_table_lines(line: str, table: str, oem: str) -> None:
    assert parse_acpi_oem_ids(f"[    0.000000] {line}\n").value == {table: oem}


def test_the_root_table_is_preferred() -> None:
    assert first_oem_id({"DSDT": "MSFTVM", "RSDP": "VRTUAL"}) == "VRTUAL"
    assert first_oem_id({"DSDT": "MSFTVM"}) == "MSFTVM"
    assert first_oem_id({}) is None


@pytest.mark.parametrize(
    "name", ["KVM", "Microsoft Hyper-V", "VMware", "Xen HVM", "ACRN", "Jailhouse"]
)
def test_hypervisor_names(name: str) -> None:
    assert parse_hypervisor_line(f"[    0.000000] Hypervisor detected: {name}\n").value == name


def test_cpu_flags_without_the_hypervisor_bit_and_without_flags() -> None:
    assert parse_cpu_hypervisor_flag("flags\t\t: fpu vme de pse\n").value is False
    assert parse_cpu_hypervisor_flag("Features\t: fp asimd evtstrm\n").value is None


@pytest.mark.parametrize(
    "data", [b"", b"FACP", b"FACP\x00\x01\x02\x03\x04\x05\xff\xfe\x00\x00\x00\x00"]
)
def test_short_or_unprintable_headers_name_nothing(data: bytes) -> None:
    assert parse_acpi_table_header(data).value is None


@pytest.mark.parametrize("junk", ["", "\x00\xff", "ACPI: RSDP (v", "Hypervisor detected:"])
def test_garbage_names_nothing(junk: str) -> None:
    assert parse_acpi_oem_ids(junk).value == {}
    assert parse_hypervisor_line(junk).value is None


def test_linear_on_a_long_line() -> None:
    line = "ACPI: RSDP " + "0" * 400_000 + " Hypervisor detected: " + "x" * 400_000
    started = time.monotonic()
    parse_acpi_oem_ids(line)
    parse_hypervisor_line(line)
    parse_cpu_hypervisor_flag("flags : " + "a " * 200_000)
    assert time.monotonic() - started < 1.0
