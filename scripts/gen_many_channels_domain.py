#!/usr/bin/env python3
"""Writes tests/data/domains/live/many-channels-64.xml: the live XML of a
64-vCPU guest with 64 power channels, laid out as libvirt 9.0 on Debian 12
lays them out (seen with a real throwaway domain): channel paths generated
under the QEMU driver's channel directory, ports 1..30 on each default
virtio-serial controller, qemu-ga first, spice last.

Usage: scripts/gen_many_channels_domain.py [OUTPUT]
"""
import sys

NAME = "many-chan"
DOM_ID = 17
UUID = "9b2f6d3e-5c41-4a8e-b7f0-64c4a11e0640"
CHANNELS = 64
PORTS_PER_CONTROLLER = 30  # QEMU's 31 ports minus port 0, which libvirt skips
CHANNEL_DIR = f"/var/lib/libvirt/qemu/channel/target/domain-{DOM_ID}-{NAME}"


def channel(kind, name, alias, slot, path=True, state="disconnected"):
    controller, port = divmod(slot, PORTS_PER_CONTROLLER)
    lines = [f"    <channel type='{kind}'>"]
    if path:
        lines.append(f"      <source mode='bind' path='{CHANNEL_DIR}/{name}'/>")
    lines += [
        f"      <target type='virtio' name='{name}' state='{state}'/>",
        f"      <alias name='{alias}'/>",
        f"      <address type='virtio-serial' controller='{controller}' bus='0' port='{port + 1}'/>",
        "    </channel>",
    ]
    return "\n".join(lines)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/domains/live/many-channels-64.xml"
    total = CHANNELS + 2
    controllers = (total + PORTS_PER_CONTROLLER - 1) // PORTS_PER_CONTROLLER
    parts = []
    for i in range(controllers):
        parts.append(f"""    <controller type='virtio-serial' index='{i}'>
      <alias name='virtio-serial{i}'/>
      <address type='pci' domain='0x0000' bus='0x{i + 2:02x}' slot='0x00' function='0x0'/>
    </controller>""")
    for i in range(1, controllers + 2):
        parts.append(f"""    <controller type='pci' index='{i}' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='{i}' port='0x{i + 15:x}'/>
      <alias name='pci.{i}'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x{i - 1:x}'/>
    </controller>""")
    slot = 0
    parts.append(channel("unix", "org.qemu.guest_agent.0", "channel0", slot, state="connected"))
    for n in range(CHANNELS):
        slot += 1
        # The guest has opened the ports of its first 8 lcores.
        parts.append(channel("unix", f"virtio.serial.port.poweragent.{n}", f"channel{slot}", slot,
                             state="connected" if n < 8 else "disconnected"))
    slot += 1
    parts.append(channel("spicevmc", "com.redhat.spice.0", f"channel{slot}", slot, path=False))
    devices = "\n".join(parts)

    xml = f"""<domain type='kvm' id='{DOM_ID}'>
  <name>{NAME}</name>
  <uuid>{UUID}</uuid>
  <memory unit='KiB'>16777216</memory>
  <currentMemory unit='KiB'>16777216</currentMemory>
  <vcpu placement='static'>{CHANNELS}</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'>
    <topology sockets='2' dies='1' cores='32' threads='1'/>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pcie-root'>
      <alias name='pcie.0'/>
    </controller>
{devices}
    <graphics type='spice' port='5901' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <audio id='1' type='spice'/>
    <video>
      <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>
      <alias name='video0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </video>
    <memballoon model='none'/>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+64055:+64055</label>
    <imagelabel>+64055:+64055</imagelabel>
  </seclabel>
</domain>
"""
    with open(out, "w", encoding="utf-8") as f:
        f.write(xml)


if __name__ == "__main__":
    main()
