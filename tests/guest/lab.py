"""Real-guest lab: boots Linux guests under QEMU (TCG) and runs commands inside them.

An x86_64 guest's root file system is the host's `/`, shared read-only over virtio-9p, so the
guest runs the host's Python and the working tree of this repository. An aarch64 guest's root is
a Debian 12 arm64 tree built once under `.lab/` (arm64.py), and the checkout is a third share.
A per-kernel initramfs (busybox plus the modules that reach the share) mounts it, a second,
writable 9p share carries the results back, and the guest powers off. See docs/lab.md.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import arm64

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".lab"
BOOT_DIR = Path("/boot")
MODULES_DIR = Path("/lib/modules")
QEMU = "qemu-system-x86_64"
QEMU_AARCH64 = "qemu-system-aarch64"
# qemu-efi-aarch64's EDK2 build for QEMU's virt machine (loaded with -bios).
UEFI_AARCH64 = Path("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd")
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
SETUP_HINT = "run tests/guest/setup-lab (as root) to install QEMU, the kernels and busybox"

GUEST_OUT = "/tmp/lab-out"
ROOT_TAG = "lab-root"
OUT_TAG = "lab-out"
CHECKOUT_TAG = "lab-checkout"
NOBODY = 65534
# The user whose desktop session the sound-server guests run (created by setup-lab; its home is
# a tmpfs in the guest).
LAB_USER = "snddiag-lab"


def session_env() -> str:
    """A shell prefix running a command as LAB_USER inside its session (uid, groups, HOME,
    XDG_RUNTIME_DIR), for the guest's stage 2."""
    return (
        f"setpriv --reuid=$(id -u {LAB_USER}) --regid=$(id -g {LAB_USER}) --init-groups"
        f" env HOME=/home/{LAB_USER} USER={LAB_USER} XDG_RUNTIME_DIR=/run/user/$(id -u {LAB_USER})"
    )


# What the initramfs needs to mount the 9p shares on either transport; their dependencies
# (netfs, fscache, virtio_ring ...) come from modules.dep. Built-in ones are skipped.
SHARE_MODULES = ("virtio_pci", "virtio_mmio", "9pnet_virtio", "9p")


def _is_microvm(machine: str) -> bool:
    return machine.split(",", 1)[0] == "microvm"


def machine_args(machine: str) -> tuple[str, ...]:
    """`-M` for a scenario's machine: a QEMU machine type (q35, pc-q35-7.2 ...) or microvm."""
    if machine == "microvm":
        # microvm has no PCI: every virtio device sits on a virtio-mmio transport that the
        # kernel finds through ACPI (Debian kernels lack CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES).
        return ("-M", "microvm,acpi=on")
    return ("-M", machine)


def host_tsc_khz() -> int | None:
    """The host's TSC rate, which is also the guest's under TCG (QEMU passes host ticks)."""
    try:
        return int(Path("/sys/devices/system/cpu/cpu0/tsc_freq_khz").read_text())
    except (OSError, ValueError):
        pass
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    m = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", cpuinfo, re.MULTILINE)
    return round(float(m.group(1)) * 1000) if m else None


def _microvm_cmdline() -> tuple[str, ...]:
    # microvm has no HPET and no ACPI PM timer, only the PIT to calibrate the TSC against; on a
    # loaded host that calibration fails ("tsc: Unable to calibrate against PIT") and the boot
    # hangs. Telling the kernel the rate skips it.
    khz = host_tsc_khz()
    return (f"tsc_early_khz={khz}",) if khz else ()


MICROVM_CMDLINE = _microvm_cmdline()
# A session guest (udev, PipeWire, then three snddiag runs) takes 140-300 s on a loaded host.
BOOT_TIMEOUT_S = 480.0
COMMAND_TIMEOUT_S = 180


class LabError(RuntimeError):
    """A boot did not produce results (QEMU failed, timed out, or the guest broke)."""


class LabMissing(LabError):
    """QEMU, a kernel or busybox is not installed on this host."""


@dataclass(frozen=True)
class Scenario:
    """One guest configuration, and what snddiag is expected to conclude inside it."""

    name: str
    description: str
    kernel: str = "6.12"
    arch: str = "x86_64"  # or aarch64, on the virt machine
    # aarch64 only: boot through EDK2 (DMI and ACPI tables) instead of QEMU's direct kernel boot
    # (device tree only). The kernel and initramfs are passed with -kernel/-initrd either way.
    uefi: bool = False
    machine: str = "q35"
    qemu_args: tuple[str, ...] = ()
    cmdline: tuple[str, ...] = ()
    coldplug: bool = True
    setup: tuple[str, ...] = ()
    run_as: str = "root"
    sysctls: tuple[tuple[str, str], ...] = ()
    expect_exit: int = 0
    expect_status: str = "ok"
    expect_rules: frozenset[str] = frozenset()
    # Rules that fire or not with how busy the host is (QEMU's audio backend keeping up or not):
    # allowed beside expect_rules, never required; expect_status and expect_exit are then the
    # verdict without them. LOADED_HOST (scenarios.py) holds those of every --play scenario.
    host_timing_rules: frozenset[str] = frozenset()
    expect_words: tuple[str, ...] = ()
    # What the guest itself must show (root's dmesg, /proc/modules, /proc/asound/cards), so the
    # lab notices when a scenario stops being what its name says.
    guest_dmesg: tuple[str, ...] = ()
    guest_snd_loaded: bool = True
    guest_cards: str | None = None
    # Build virtio_snd out of tree for this kernel first (tests/guest/oot_module.py).
    oot_virtio_snd: bool = False


@dataclass(frozen=True)
class Kernel:
    release: str
    image: Path
    arch: str = "x86_64"
    root: Path = Path("/")  # the guest's root file system, which holds the module tree

    @property
    def modules(self) -> Path:
        if self.root == Path("/"):
            return MODULES_DIR / self.release
        return self.root / "lib" / "modules" / self.release


@dataclass(frozen=True)
class CommandResult:
    name: str
    command: str
    exit_code: int | None
    stdout: str
    stderr: str


@dataclass
class GuestRun:
    """What one boot left behind. `out_dir` holds the out share (cmd/, lab/, files the commands
    wrote) and is kept only when the caller asked for it."""

    scenario: Scenario
    kernel_release: str
    commands: dict[str, CommandResult]
    serial_log: str
    dmesg: str
    proc_modules: str
    seconds: float
    out_dir: Path | None = None
    lab_log: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def loaded_modules(self) -> set[str]:
        return {line.split()[0] for line in self.proc_modules.splitlines() if line.strip()}

    def dmesg_lines(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        return [line for line in self.dmesg.splitlines() if rx.search(line)]

    def path(self, relative: str) -> Path:
        if self.out_dir is None:
            raise LabError(f"{self.scenario.name}: results were not kept (pass keep_dir)")
        return self.out_dir / relative


# ---------------------------------------------------------------------------------------------
# Host prerequisites


def _release_series(release: str) -> str:
    m = re.match(r"(\d+)\.(\d+)", release)
    return f"{m.group(1)}.{m.group(2)}" if m else ""


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", release))


def find_kernel(series: str, arch: str = "x86_64") -> Kernel:
    """The newest vmlinuz-<release> of a `major.minor` series with a module tree: the host's
    /boot for x86_64, the arm64 root's for aarch64."""
    if arch == "aarch64":
        root = find_arm64_root()
        boot, modules = root / "boot", root / "lib" / "modules"
    else:
        root, boot, modules = Path("/"), BOOT_DIR, MODULES_DIR
    found: list[Kernel] = []
    for image in boot.glob("vmlinuz-*"):
        release = image.name[len("vmlinuz-") :]
        if _release_series(release) != series or "cloud" in release:
            continue
        if (modules / release / "modules.dep").is_file():
            found.append(Kernel(release, image, arch, root))
    if not found:
        raise LabMissing(f"no {series} kernel in {boot} with {modules}: {SETUP_HINT}")
    return max(found, key=lambda k: _release_key(k.release))


def find_arm64_root() -> Path:
    root = arm64.find_root()
    if root is None:
        raise LabMissing(f"no arm64 root for today's package list in {CACHE_DIR}: {SETUP_HINT}")
    return root


def find_busybox(arch: str = "x86_64") -> Path:
    if arch == "aarch64":
        return find_arm64_root() / "bin" / "busybox"
    for candidate in BUSYBOX_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise LabMissing(f"busybox-static is not installed: {SETUP_HINT}")


def find_qemu(arch: str = "x86_64") -> str:
    name = QEMU_AARCH64 if arch == "aarch64" else QEMU
    path = shutil.which(name)
    if path is None:
        raise LabMissing(f"{name} is not installed: {SETUP_HINT}")
    return path


def require_lab(scenarios: Iterable[Scenario] = ()) -> None:
    """Raise LabMissing unless everything the given scenarios need is installed."""
    wanted = {(s.arch, s.kernel) for s in scenarios} or {("x86_64", "6.12"), ("x86_64", "6.1")}
    for arch, series in sorted(wanted):
        find_qemu(arch)
        find_busybox(arch)
        find_kernel(series, arch)
    if any(s.uefi for s in scenarios) and not UEFI_AARCH64.is_file():
        raise LabMissing(f"{UEFI_AARCH64} (qemu-efi-aarch64) is missing: {SETUP_HINT}")


def kernel_for(scenario: Scenario) -> Kernel:
    return find_kernel(scenario.kernel, scenario.arch)


def guest_python() -> Path:
    """The interpreter running this process, as a path that exists inside the guest too.

    A virtualenv's interpreter is kept as is (its pyvenv.cfg sits beside it); anything else is
    resolved past shims and symlinks to the real binary."""
    exe = Path(sys.executable)
    if sys.prefix != sys.base_prefix:
        return exe
    return exe.resolve()


# ---------------------------------------------------------------------------------------------
# Initramfs


def _module_name(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    return base.split(".ko", 1)[0].replace("-", "_")


def _read_modules_dep(kernel: Kernel) -> dict[str, tuple[str, list[str]]]:
    """modules.dep -> {name: (path, [dependency paths])}."""
    deps: dict[str, tuple[str, list[str]]] = {}
    for line in (kernel.modules / "modules.dep").read_text().splitlines():
        target, _, rest = line.partition(":")
        if target:
            deps[_module_name(target)] = (target, rest.split())
    return deps


def resolve_modules(kernel: Kernel, names: Sequence[str]) -> list[str]:
    """Module paths (relative to the module tree) in load order; built-in names are skipped."""
    deps = _read_modules_dep(kernel)
    by_path = {path: name for name, (path, _) in deps.items()}
    order: list[str] = []

    def visit(name: str) -> None:
        path, requires = deps[name]
        for dep in reversed(requires):
            visit(by_path[dep])
        if path not in order:
            order.append(path)

    for name in names:
        if name in deps:
            visit(name)
    return order


def _read_module(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", str(path)], check=True, capture_output=True).stdout
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    return data


INIT_SCRIPT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "lab-init: $*" > /dev/console; }
fail() { say "FAILED: $*"; poweroff -f; }
for m in $(cat /lab/modules.order); do
    insmod "/lab/modules/$m.ko" || say "insmod $m failed"
done
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose @ROOT_TAG@ /newroot \
    || fail "mount @ROOT_TAG@"
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot@GUEST_OUT@
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 @OUT_TAG@ /newroot@GUEST_OUT@ \
    || fail "mount @OUT_TAG@"
say "switching root"
# switch_root, as a real initramfs does: PID 1 shares its root with the kernel's threads, so
# request_module() (snd_hda_intel loading its codec drivers) then finds the host's modprobe.
exec switch_root /newroot /bin/sh @GUEST_OUT@/lab/stage2.sh
"""


def _init_script() -> str:
    return (
        INIT_SCRIPT.replace("@ROOT_TAG@", ROOT_TAG)
        .replace("@OUT_TAG@", OUT_TAG)
        .replace("@GUEST_OUT@", GUEST_OUT)
    )


class _Cpio:
    """A newc ("070701") archive, which is what the kernel unpacks as an initramfs."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._ino = 1

    def _add(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        encoded = name.encode() + b"\0"
        fields = (self._ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        self._ino += 1
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self._parts += [header, encoded, b"\0" * (-(len(header) + len(encoded)) % 4)]
        self._parts += [data, b"\0" * (-len(data) % 4)]

    def dir(self, name: str) -> None:
        self._add(name, 0o040755)

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._add(name, 0o100000 | perm, data)

    def chardev(self, name: str, major: int, minor: int) -> None:
        self._add(name, 0o020600, rdev=(major, minor))

    def finish(self) -> bytes:
        self._add("TRAILER!!!", 0)
        raw = b"".join(self._parts)
        return raw + b"\0" * (-len(raw) % 512)


def build_initramfs(kernel: Kernel) -> Path:
    """The cached initramfs for a kernel, built when its inputs changed."""
    busybox = find_busybox(kernel.arch).read_bytes()
    init = _init_script().encode()
    modules = [
        (path, _read_module(kernel.modules / path))
        for path in resolve_modules(kernel, SHARE_MODULES)
    ]
    digest = hashlib.sha256(busybox + init)
    for path, data in modules:
        digest.update(path.encode() + b"\0" + data)
    target = CACHE_DIR / f"initramfs-{kernel.release}-{digest.hexdigest()[:16]}.cpio"
    if target.is_file():
        return target

    cpio = _Cpio()
    for d in ("bin", "dev", "lab", "lab/modules", "proc", "sys", "newroot"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.file("bin/busybox", busybox, 0o755)
    cpio.file("init", init, 0o755)
    names = [_module_name(path) for path, _ in modules]
    cpio.file("lab/modules.order", "".join(f"{n}\n" for n in names).encode())
    for name, (_, data) in zip(names, modules):
        cpio.file(f"lab/modules/{name}.ko", data)

    CACHE_DIR.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, prefix=".initramfs-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(cpio.finish())
    os.replace(tmp, target)
    for stale in CACHE_DIR.glob(f"initramfs-{kernel.release}-*.cpio"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------------------------------------
# Stage 2: runs chrooted into the host's root inside the guest


# Each distinct alias once per pass, in the order found: the virt machine alone has 32 mmio
# transports with one alias, and every modprobe is slow under TCG.
COLDPLUG = r"""
coldplug() {
    seen=" "
    find /sys/devices -name modalias -type f -exec cat {} + 2>/dev/null | while read -r alias; do
        case "$seen" in *" $alias "*) continue ;; esac
        seen="$seen$alias "
        modprobe -b -q "$alias"
    done
}
# A second pass catches devices that the first pass's drivers created.
coldplug
coldplug
"""


def _reveal_interpreter(prefixes: Iterable[Path]) -> list[str]:
    """Shell lines making the interpreter reachable for an unprivileged user.

    A pyenv interpreter under /root (mode 700) is unreachable for `nobody`; the guest's root
    puts a world-searchable tmpfs over the closed directory and binds the prefix back at its
    own path, so shebangs and the library's RPATH still resolve."""
    lines: list[str] = []
    for n, prefix in enumerate(prefixes):
        closed = next(
            (p for p in reversed(prefix.parents) if p != Path("/") and not p.stat().st_mode & 1),
            None,
        )
        if closed is None:
            continue
        keep = f"/run/lab-prefix{n}"
        lines += [
            f"mkdir -p {keep}",
            f"mount --bind {shlex.quote(str(prefix))} {keep}",
            f"mount -t tmpfs -o mode=755 tmpfs {shlex.quote(str(closed))}",
            f"mkdir -p {shlex.quote(str(prefix))}",
            f"mount --bind {keep} {shlex.quote(str(prefix))}",
        ]
    return lines


def _reveal_checkout() -> list[str]:
    """A checkout under /tmp or /run (CI clones anywhere) is hidden by the guest's tmpfs there:
    a non-recursive bind of / shows the share without that tmpfs; bind the checkout back."""
    if not any(REPO.is_relative_to(p) for p in (Path("/tmp"), Path("/run"))):
        return []
    repo = shlex.quote(str(REPO))
    return [
        "mkdir -p /run/lab-hostroot",
        "mount --bind / /run/lab-hostroot",
        f"mkdir -p {repo}",
        f"mount --bind /run/lab-hostroot{repo} {repo}",
    ]


def stage2_script(scenario: Scenario, commands: Mapping[str, str]) -> str:
    aarch64 = scenario.arch == "aarch64"
    # aarch64: Debian's own python3 in the arm64 root, the checkout mounted from its share.
    python = arm64.PYTHON if aarch64 else str(guest_python())
    repo = arm64.CHECKOUT if aarch64 else str(REPO)
    lab = f"{GUEST_OUT}/lab"
    lines = [
        "#!/bin/sh",
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "export HOME=/tmp PYTHONDONTWRITEBYTECODE=1",
        f"export PYTHONPATH={shlex.quote(repo)} REPO={shlex.quote(repo)}",
        f"export PYTHON={shlex.quote(python)} OUT={GUEST_OUT}",
        f"exec >{lab}/stage2.log 2>&1",
        "set -x",
    ]
    if aarch64:
        lines.append(
            f"mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000 {CHECKOUT_TAG} {repo}"
        )
    else:
        lines += _reveal_checkout()
    lines.append("cd /tmp")
    for key, value in scenario.sysctls:
        lines.append(f"echo {shlex.quote(value)} > /proc/sys/{key.replace('.', '/')}")
    if scenario.run_as != "root" and not aarch64:
        prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix)}
        lines += _reveal_interpreter(sorted(prefixes))
    lines += scenario.setup
    if scenario.coldplug:
        lines.append(COLDPLUG)
    lines.append(f"mkdir -p {GUEST_OUT}/cmd && chmod 777 {GUEST_OUT} {GUEST_OUT}/cmd")
    if scenario.run_as == "root":
        runner = ""
    elif scenario.run_as == "nobody":
        runner = f"setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups -- "
    elif scenario.run_as == LAB_USER:
        runner = f"{session_env()} "
    else:
        raise LabError(f"{scenario.name}: unknown run_as {scenario.run_as!r}")
    for name, command in commands.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise LabError(f"command name {name!r} is not a plain file name")
        base = f"{GUEST_OUT}/cmd/{name}"
        lines.append(
            f"{runner}timeout {COMMAND_TIMEOUT_S} sh -c {shlex.quote(command)}"
            f" >{base}.stdout 2>{base}.stderr </dev/null; echo $? >{base}.rc"
        )
    lines += [
        f"dmesg >{lab}/dmesg.txt",
        f"cat /proc/modules >{lab}/modules.txt",
        f"uname -r >{lab}/uname.txt",
        f"uname -m >{lab}/machine.txt",
        f"cat /sys/class/dmi/id/sys_vendor >{lab}/dmi-vendor.txt 2>/dev/null",
        f"tr '\\0' ' ' </proc/device-tree/compatible >{lab}/dt-compatible.txt 2>/dev/null",
        f"cat /proc/asound/cards >{lab}/asound-cards.txt 2>&1",
        f"echo done >{lab}/done",
        "sync",
        "echo o >/proc/sysrq-trigger",
        "sleep 30",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Boot


def _arch_args(scenario: Scenario) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(QEMU arguments, kernel command line) that depend on the architecture and machine."""
    if scenario.arch == "aarch64":
        # The PL011 UART is ttyAMA0 with the device tree and with ACPI (SPCR) alike.
        firmware = ("-bios", str(UEFI_AARCH64)) if scenario.uefi else ()
        return (*machine_args(scenario.machine), "-cpu", "cortex-a72", *firmware), (
            "console=ttyAMA0",
        )
    if _is_microvm(scenario.machine):
        return machine_args(scenario.machine), ("console=ttyS0", *MICROVM_CMDLINE)
    # On a loaded host q35's IO-APIC timer test misses its ticks under TCG and the kernel panics
    # ("IO-APIC + timer doesn't work!") before init.
    return machine_args(scenario.machine), ("console=ttyS0", "no_timer_check")


def qemu_argv(
    scenario: Scenario, kernel: Kernel, initramfs: Path, out: Path, serial: Path
) -> list[str]:
    # The 9p shares sit on PCI wherever there is PCI (virt has a PCIe host bridge), so that the
    # virtio-mmio transports carry nothing but the scenario's own devices.
    ninep = "virtio-9p-device" if _is_microvm(scenario.machine) else "virtio-9p-pci"
    machine, console = _arch_args(scenario)
    append = [*console, "panic=-1", *scenario.cmdline]
    root = kernel.root
    checkout: tuple[str, ...] = ()
    if scenario.arch == "aarch64":
        checkout = (
            "-fsdev", f"local,id=labcheckout,path={REPO},security_model=none,readonly=on",
            "-device", f"{ninep},fsdev=labcheckout,mount_tag={CHECKOUT_TAG}",
        )  # fmt: skip
    return [
        find_qemu(scenario.arch),
        "-nodefaults",
        "-no-user-config",
        *machine,
        "-accel", "tcg",
        "-m", "512",
        "-smp", "1",
        "-no-reboot",
        "-display", "none",
        "-monitor", "none",
        "-serial", f"file:{serial}",
        "-kernel", str(kernel.image),
        "-initrd", str(initramfs),
        "-append", " ".join(append),
        "-fsdev", f"local,id=labroot,path={root},security_model=none,readonly=on,multidevs=remap",
        "-device", f"{ninep},fsdev=labroot,mount_tag={ROOT_TAG}",
        "-fsdev", f"local,id=labout,path={out},security_model=none",
        "-device", f"{ninep},fsdev=labout,mount_tag={OUT_TAG}",
        *checkout,
        *scenario.qemu_args,
    ]  # fmt: skip


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _wait(proc: subprocess.Popen[bytes], done: Path, timeout_s: float) -> None:
    """Wait for QEMU to exit; kill it at the deadline, or soon after the guest said done."""
    deadline = time.monotonic() + timeout_s
    done_at: float | None = None
    while proc.poll() is None:
        now = time.monotonic()
        if done_at is None and done.exists():
            done_at = now
        if now > deadline or (done_at is not None and now - done_at > 20):
            proc.kill()
            proc.wait()
            return
        time.sleep(0.2)


def _build_oot_modules(scenarios: Iterable[Scenario]) -> None:
    from tests.guest import oot_module

    for scenario in scenarios:
        if scenario.oot_virtio_snd:
            oot_module.build(kernel_for(scenario).release)


def run_in_guest(
    scenario: Scenario,
    commands: Mapping[str, str],
    *,
    keep_dir: Path | None = None,
    timeout_s: float = BOOT_TIMEOUT_S,
) -> GuestRun:
    """Boot `scenario`, run `commands` ({name: shell line}) in it, and power off.

    Commands run in order, after the scenario's set-up and coldplug, as the scenario's user,
    with $PYTHON (this interpreter), $REPO (this checkout, also on PYTHONPATH) and $OUT (the
    writable results share) set. With `keep_dir` the out share and the serial log are moved
    there (it must not exist yet); otherwise everything is deleted."""
    require_lab([scenario])
    kernel = kernel_for(scenario)
    initramfs = build_initramfs(kernel)
    _build_oot_modules([scenario])
    work = Path(tempfile.mkdtemp(prefix=f"snddiag-lab-{scenario.name}-"))
    try:
        out = work / "out"
        (out / "lab").mkdir(parents=True)
        out.chmod(0o777)
        (out / "lab" / "stage2.sh").write_text(stage2_script(scenario, commands))
        serial = work / "serial.log"
        argv = qemu_argv(scenario, kernel, initramfs, out, serial)
        (work / "qemu.argv").write_text(shlex.join(argv) + "\n")
        started = time.monotonic()
        with open(work / "qemu.stderr", "wb") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
            try:
                _wait(proc, out / "lab" / "done", timeout_s)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        seconds = time.monotonic() - started
        serial_log = _read(serial)
        if not (out / "lab" / "done").exists():
            tail = "\n".join(serial_log.splitlines()[-40:])
            raise LabError(
                f"{scenario.name}: guest did not finish within {timeout_s:.0f}s "
                f"(QEMU exit {proc.returncode}); qemu stderr:\n{_read(work / 'qemu.stderr')}\n"
                f"stage2 log tail:\n{_read(out / 'lab' / 'stage2.log')[-3000:]}\n"
                f"serial log tail:\n{tail}"
            )
        results: dict[str, CommandResult] = {}
        for name, command in commands.items():
            base = out / "cmd" / name
            rc = _read(base.with_name(name + ".rc")).strip()
            results[name] = CommandResult(
                name=name,
                command=command,
                exit_code=int(rc) if rc.lstrip("-").isdigit() else None,
                stdout=_read(base.with_name(name + ".stdout")),
                stderr=_read(base.with_name(name + ".stderr")),
            )
        run = GuestRun(
            scenario=scenario,
            kernel_release=_read(out / "lab" / "uname.txt").strip(),
            commands=results,
            serial_log=serial_log,
            dmesg=_read(out / "lab" / "dmesg.txt"),
            proc_modules=_read(out / "lab" / "modules.txt"),
            seconds=seconds,
            lab_log=_read(out / "lab" / "stage2.log"),
            extra={
                name.replace("-", "_"): _read(out / "lab" / f"{name}.txt")
                for name in ("asound-cards", "machine", "dmi-vendor", "dt-compatible")
            },
        )
        if keep_dir is not None:
            keep_dir.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(work), str(keep_dir))
            run.out_dir = keep_dir / "out"
        return run
    finally:
        shutil.rmtree(work, ignore_errors=True)


SNDDIAG_COMMANDS: Mapping[str, str] = {
    "json": '"$PYTHON" -m snddiag --json',
    "collect-dir": '"$PYTHON" -m snddiag collect --no-redact --dir "$OUT/evidence"',
    "collect-bundle": '"$PYTHON" -m snddiag collect -o "$OUT/bundle.tar.gz"',
}
"""One boot runs everything the live tests and the fixture capture need."""


def boot_all(
    scenarios: Sequence[Scenario],
    commands: Mapping[str, str] = SNDDIAG_COMMANDS,
    *,
    keep_root: Path | None = None,
    workers: int = 2,
) -> dict[str, GuestRun | LabError]:
    """Boot every scenario, `workers` at a time (one TCG guest per host core is about right).

    A failed boot is returned as its LabError, so one broken guest does not hide the others.
    With `keep_root` each scenario's results are kept in `keep_root/<name>`."""
    require_lab(scenarios)
    for arch, series in {(s.arch, s.kernel) for s in scenarios}:
        build_initramfs(find_kernel(series, arch))
    _build_oot_modules(scenarios)

    def boot(scenario: Scenario) -> GuestRun | LabError:
        keep = keep_root / scenario.name if keep_root is not None else None
        try:
            return run_in_guest(scenario, commands, keep_dir=keep)
        except LabError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(boot, scenarios))
    return {s.name: run for s, run in zip(scenarios, runs)}


# ---------------------------------------------------------------------------------------------
# snddiag.pyz in a guest (packaging/zipapp/build), beside the installed tool

PYZ = REPO / "dist" / "snddiag.pyz"
DISTRO_PYTHON = "/usr/bin/python3"
"""Debian's interpreter, with Debian's python3-yaml, -rich, -psutil and -pyudev (apt)."""

PYZ_COMMANDS: Mapping[str, str] = {
    "json": SNDDIAG_COMMANDS["json"],
    # No site directory at all: PyYAML, rich and pyudev come from the archive, psutil is absent.
    "pyz-bare": f'"$PYTHON" -I -S {shlex.quote(str(PYZ))} --json',
    "pyz-site": f'"$PYTHON" -I {shlex.quote(str(PYZ))} --json',
    "pyz-distro": f"{DISTRO_PYTHON} -I {shlex.quote(str(PYZ))} --json",
}
"""The installed tool's run and the archive's, in one boot: bare, with $PYTHON's site
packages, and on the distribution's interpreter with the distribution's libraries."""


def build_pyz() -> Path:
    """dist/snddiag.pyz from this checkout, where a guest finds it (the share is the host's /),
    with bytecode for this Python (the guests' $PYTHON; Debian's python3 is the same version):
    a guest runs the archive's own code member (snddiag.archive_code)."""
    build = [sys.executable, str(REPO / "packaging" / "zipapp" / "build"), "--compile"]
    done = subprocess.run(
        [*build, "--output", str(PYZ)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise LabError(f"packaging/zipapp/build failed:\n{done.stderr}")
    return PYZ
