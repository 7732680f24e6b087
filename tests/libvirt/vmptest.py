"""Helpers for tests against a real libvirtd + QEMU (TCG): a scratch area the
QEMU user can use, domains that are always cleaned up, a vmpowerd process and
its control socket."""

import json
import os
import pwd
import grp
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid

URI = "qemu:///system"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def virsh(*args, check=True):
    r = subprocess.run(["virsh", "-q", "-c", URI, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"virsh {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def start_libvirtd():
    subprocess.run([os.path.join(ROOT, "scripts", "libvirtd.sh"), "start"], check=True)


def wait_for(pred, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # the agent may be between states
            last = e
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


PROTOCOL_ENV = "VMPOWER_CONTROL_PROTOCOL"
_protocol = None


def protocol():
    """The control protocol as common/control_protocol.h defines it: commands
    (each with its args, optional args, read_only flag and the reply keys of
    every ok answer), objects (the keys of a domain, vCPU, channel, rule) and
    channel_statistics. The build writes it to common/control_protocol.json;
    meson test names that file in VMPOWER_CONTROL_PROTOCOL, a run by hand
    reads the source tree's build/."""
    global _protocol
    if _protocol is None:
        path = os.environ.get(PROTOCOL_ENV) or os.path.join(ROOT, "build", "common",
                                                           "control_protocol.json")
        try:
            with open(path) as f:
                _protocol = json.load(f)
        except OSError as e:
            raise RuntimeError(f"no control protocol table ({e}): build first, or set "
                               f"{PROTOCOL_ENV} to the build's common/control_protocol.json")
    return _protocol


def check_request(req):
    """A request the protocol defines: its command, its required args, no
    other key. A command or key renamed on one side fails here."""
    spec = protocol()["commands"].get(req.get("cmd"))
    if spec is None:
        raise AssertionError(f"{req.get('cmd')!r} is no command of the control protocol")
    unknown = set(req) - {"cmd", *spec["args"], *spec["optional"]}
    missing = set(spec["args"]) - set(req)
    if unknown or missing:
        raise AssertionError(f"{req['cmd']}: keys {sorted(unknown)} not in the control protocol, "
                             f"{sorted(missing)} missing")
    return spec


def check_keys(obj, keys, what):
    """obj has every key the protocol names for it."""
    missing = set(keys) - set(obj)
    if missing:
        raise AssertionError(f"{what} lacks {sorted(missing)} (common/control_protocol.h): {obj}")
    return obj


def check_domain(d):
    """A domain of state/show-vm, its vCPUs and channels, with the protocol's keys."""
    objects = protocol()["objects"]
    check_keys(d, objects["domain"], "domain")
    for v in d["vcpus"]:
        check_keys(v, objects["vcpu"], "vCPU")
    for c in d["channels"]:
        check_keys(c, objects["channel"], "channel")
    return d


def control_request(path, req, timeout=5):
    """One request on vmpowerd's control socket (a JSON line); its JSON answer.
    Both are checked against the control protocol (check_request): an ok
    answer has every reply key the protocol names."""
    spec = check_request(req)
    answer = _exchange(path, req, timeout)
    if isinstance(answer, dict) and answer.get("ok"):
        check_keys(answer, spec["reply"], f"the answer to {req['cmd']}")
    return answer


def _exchange(path, req, timeout):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall((json.dumps(req) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


class Scratch:
    """/var/lib/vmpower-test/<random>: sockets there must be creatable by
    the QEMU user (libvirt-qemu:kvm on Debian)."""

    def __init__(self):
        os.makedirs("/var/lib/vmpower-test", exist_ok=True)
        self.path = tempfile.mkdtemp(prefix="t-", dir="/var/lib/vmpower-test")
        os.chmod(self.path, 0o755)
        self.sock = os.path.join(self.path, "sock")
        os.mkdir(self.sock)
        try:
            os.chown(self.sock, pwd.getpwnam("libvirt-qemu").pw_uid, grp.getgrnam("kvm").gr_gid)
        except KeyError:
            raise RuntimeError("no libvirt-qemu user: run scripts/setup.sh (libvirt-daemon-system)")

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def domain_xml(name, channel_paths, pins=None, vcpus=2, extra_os="", extra_devices=""):
    pin_xml = ""
    if pins:
        pin_xml = "<cputune>" + "".join(
            f"<vcpupin vcpu='{v}' cpuset='{c}'/>" for v, c in enumerate(pins)) + "</cputune>"
    channels = "".join(
        f"<channel type='unix'><source mode='bind' path='{p}'/>"
        f"<target type='virtio' name='virtio.serial.port.poweragent.{i}'/></channel>"
        for i, p in enumerate(channel_paths))
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid.uuid4()}</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu placement='static'>{vcpus}</vcpu>
  {pin_xml}
  <os><type arch='x86_64' machine='pc'>hvm</type>{extra_os}</os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='virtio-serial' index='0'/>
    {channels}
    {extra_devices}
  </devices>
</domain>"""


class Domain:
    def __init__(self, name, xml, scratch):
        self.name = name
        path = os.path.join(scratch.path, name + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("define", path)

    def start(self):
        virsh("start", self.name)

    def destroy(self):
        virsh("destroy", self.name)

    def cleanup(self):
        virsh("destroy", self.name, check=False)
        virsh("undefine", self.name, check=False)


class Agent:
    """vmpowerd as a process, on a copy of a fixture sysfs tree."""

    def __init__(self, binary, scratch, driver="acpi-cpufreq", extra_vms='  - name: "*"\n',
                 uri=URI, agent_extra="", sysfs_exists_ok=False, preexec_fn=None, env=None,
                 wrapper=(), pass_fds=()):
        """env: the process's environment (default: this one's); wrapper:
        argv words before the binary's; pass_fds: fds it inherits."""
        self.scratch = scratch
        self.sysfs = os.path.join(scratch.path, "sys")
        if not (sysfs_exists_ok and os.path.isdir(self.sysfs)):  # a restart keeps its tree
            shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "sysfs", driver), self.sysfs,
                            symlinks=True)
        self.control = os.path.join(scratch.path, "ctl.sock")
        self.config = os.path.join(scratch.path, "vmpower.yaml")
        with open(self.config, "w") as f:
            f.write(f"agent:\n  sysfs_root: {self.sysfs}\n  state_dir: {scratch.path}/state\n"
                    f"  control_socket: {self.control}\n  log_level: debug\n{agent_extra}"
                    f"vms:\n{extra_vms}")
        self.log = open(os.path.join(scratch.path, "vmpowerd.log"), "w+")
        self.proc = subprocess.Popen([*wrapper, binary, "--connect", uri, "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn, env=env, pass_fds=pass_fds)
        wait_for(lambda: self.state().get("ready"), what="vmpowerd ready")

    def request(self, req):
        return control_request(self.control, req)

    def state(self):
        return self.request({"cmd": "state"})

    def domain(self, name):
        for d in self.state()["domains"]:
            if check_domain(d)["name"] == name:
                return d
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        self.stop()
        self.log.close()

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def tree_snapshot(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for f in files + dirs:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "-> " + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as fh:
                    out[rel] = fh.read()
    return out


RECORD = 464
CPU_POWER = 1


def record(unit, vcpu=0):
    body = bytearray(RECORD)
    struct.pack_into("<QII", body, 0, vcpu, unit, CPU_POWER)
    return bytes(body)


class QemuEnd:
    """The listening end QEMU would own; the agent connects to it."""

    def __init__(self, path):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(4)
        self.listener.setblocking(False)
        self.conn = None

    def accept_pending(self):
        r, _, _ = select.select([self.listener], [], [], 0)
        if r:
            if self.conn:
                self.conn.close()
            self.conn, _ = self.listener.accept()
            self.conn.setblocking(False)

    def send(self, data):
        if not self.conn:
            return
        try:
            self.conn.sendall(data)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass

    def drain(self):
        if not self.conn:
            return
        try:
            while self.conn.recv(65536):
                pass
        except (BlockingIOError, ConnectionResetError):
            pass

    def close(self):
        if self.conn:
            self.conn.close()
        self.listener.close()


def close_test_driver(agent, qemu, scratch, failed):
    """A test_driver_guests test's tearDown: the agent (its log printed when
    the test failed), the QEMU ends, the scratch directory."""
    if agent:
        if failed:
            print(agent.log_text())
        agent.close()
    for q in qemu.values():
        q.close()
    scratch.cleanup()


def test_driver_guests(scratch, guests):
    """A test:/// node with one single-vCPU domain per guest ({name: pCPU}),
    each pinned (vCPU and emulator) to its pCPU with one power channel whose
    QEMU end the test plays. Returns (uri, {name: QemuEnd})."""
    qemu, domains = {}, ""
    for name, cpu in guests.items():
        path = os.path.join(scratch.path, name + ".0")
        qemu[name] = QemuEnd(path)
        domains += f"""<domain type='test'><name>{name}</name><uuid>{uuid.uuid4()}</uuid>
  <memory>1048576</memory><vcpu placement='static'>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='{cpu}'/><emulatorpin cpuset='{cpu}'/></cputune>
  <os><type>hvm</type></os><devices><controller type='virtio-serial' index='0'/>
  <channel type='unix'><source mode='bind' path='{path}'/>
  <target type='virtio' name='virtio.serial.port.poweragent.0'/></channel></devices></domain>
"""
    node = os.path.join(scratch.path, "node.xml")
    with open(node, "w") as f:
        f.write("<node><cpu><mode>host-model</mode><nodes>1</nodes><sockets>1</sockets>"
                "<cores>4</cores><threads>1</threads><active>4</active></cpu>"
                + domains + "</node>\n")
    return "test://" + node, qemu
