#!/usr/bin/env python3
"""Cross-checks a builder image against Volatility 3, an independent parser of the same layouts.

Usage: crosscheck-volatility.py <volatility3 checkout> <symbols dir> <image> <truth.json>

Volatility 3 is not part of IRPscope: fetch it yourself (git clone of volatilityfoundation/
volatility3, with python3-pefile installed) and point this script at it. The script asks
Volatility for what its own plugins find -- the kernel base and DTB, driverscan's pool scan,
the module list and modscan, each driver's IRP table, device chains and stacks, symbolic
links -- and compares it with truth.json. It walks device chains itself (with NULL checks)
because devicetree at some Volatility revisions stops after a driver's first device.
Exit status 0 when everything agrees, 1 otherwise.
"""

import json
import logging
import os
import pathlib
import sys
import tempfile

MASK48 = (1 << 48) - 1


def quiet(*_):
    """A progress callback that shows nothing."""


def main():
    vol_dir, symbols_dir, image, truth_path = sys.argv[1:5]
    # Volatility resolves a relative symbol directory against its own source folder, not ours.
    symbols_dir = os.path.abspath(symbols_dir)
    image_url = pathlib.Path(image).resolve().as_uri()
    sys.path.insert(0, vol_dir)
    from volatility3 import framework, plugins as vol_plugins, symbols as vol_symbols
    from volatility3.framework import automagic, constants, contexts, exceptions, plugins

    logging.basicConfig(level=logging.ERROR)
    constants.OFFLINE = True
    framework.import_files(vol_plugins, True)
    from volatility3.plugins.windows import driverscan, modscan, modules, symlinkscan
    # When its identifier cache does not name a kernel's ISF, Volatility "downloads" it into the first
    # symbol directory: it opens <dir>/windows/<pdb>/<GUID>-<age>.json.xz for writing (truncating the
    # symbol file that is there) and, offline, removes it. A scratch directory first takes that write.
    scratch = tempfile.TemporaryDirectory(prefix="crosscheck-volatility-")
    vol_symbols.__path__ = [scratch.name, symbols_dir] + list(vol_symbols.__path__)

    truth = json.load(open(truth_path))
    ctx = contexts.Context()
    ctx.config["automagic.LayerStacker.single_location"] = image_url
    available = automagic.available(ctx)
    chosen = automagic.choose_automagic(available, driverscan.DriverScan)
    # Volatility's symbol cache update calls the progress callback unconditionally (no None check).
    automagic.run(chosen, ctx, driverscan.DriverScan, "plugins", progress_callback=quiet)
    plugin = plugins.construct_plugin(ctx, chosen, driverscan.DriverScan, "plugins", quiet, None)
    kernel = ctx.modules[plugin.config["kernel"]]
    vlayer = ctx.layers[kernel.layer_name]
    failures = []

    def check(label, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}")
        if not ok:
            failures.append(label)

    hx = lambda s: int(s, 16)
    dtb = vlayer.config["page_map_offset"]
    check("DTB", dtb == hx(truth["dtb"]) or dtb == hx(truth["dtb"]) & ~0x1F, f"{dtb:#x} vs {truth['dtb']}")
    check("kernel base", kernel.offset & MASK48 == hx(truth["kernelBase"]) & MASK48, f"{kernel.offset:#x} vs {truth['kernelBase']}")

    # driverscan: objects found by Volatility's pool scan, by virtual or physical offset.
    by_va = {hx(d["objectVa"]) & MASK48: d for d in truth["drivers"]}
    by_pa = {hx(d["objectPa"]): d for d in truth["drivers"]}
    stale = {hx(s["objectVa"]) & MASK48 for s in truth["staleDrivers"]} | {hx(s["objectPa"]) for s in truth["staleDrivers"]}
    found, unexpected = {}, []
    for driver in driverscan.DriverScan.scan_drivers(ctx, kernel.layer_name, kernel.symbol_table_name):
        offset = driver.vol.offset
        record = by_va.get(offset & MASK48) if driver.vol.layer_name == kernel.layer_name else by_pa.get(offset)
        if record:
            found[record["objectVa"]] = driver
        elif (offset & MASK48 if driver.vol.layer_name == kernel.layer_name else offset) not in stale:
            unexpected.append(offset)
    # Volatility's top-down carving tries every aligned header position in a block; a position in the
    # pool block of a real or freed driver object can decode to "Driver" by chance (the cookie XOR).
    # Those are its duplicates: the body of a driver object cannot overlap another's.
    extents = [(hx(d["objectPa"]), hx(d["objectVa"]) & MASK48) for d in truth["drivers"] + truth["staleDrivers"]]
    size = kernel.get_type("_DRIVER_OBJECT").size
    duplicates = [u for u in unexpected if any(0 < abs((u & MASK48) - va) < size or 0 < abs(u - pa) < size for pa, va in extents)]
    unexpected = [u for u in unexpected if u not in duplicates]
    if duplicates:
        print(f"note Volatility also reported {len(duplicates)} carving duplicate(s) in the pool blocks of real or freed driver objects")
    missing = [d["name"] for d in truth["drivers"] if d["objectVa"] not in found]
    check("driverscan finds every driver object", not missing, f"{len(found)}/{len(truth['drivers'])}; missing {missing[:5]}")
    check("driverscan finds nothing else (beyond stale freed objects)", not unexpected, f"{[hex(u) for u in unexpected[:5]]}")

    names_bad = []
    for record in truth["drivers"]:
        if not record["nameResident"] or record["objectVa"] not in found:
            continue
        try:
            name = found[record["objectVa"]].DriverName.get_string()
        except exceptions.InvalidAddressException:
            name = None
        if name != record["name"]:
            names_bad.append((record["name"], name))
    check("DriverName strings", not names_bad, f"{names_bad[:3]}")

    # Each driver re-read at its virtual address: start, size, IRP table, devices.
    def driver_at(va):
        return kernel.object("_DRIVER_OBJECT", offset=va & MASK48, absolute=True)

    irp = {(h["driver"], h["index"]): hx(h["handler"]) for h in truth["irp"]}
    start_bad, irp_bad, dev_bad = [], [], []
    for record in truth["drivers"]:
        obj = driver_at(hx(record["objectVa"]))
        if (obj.DriverStart & MASK48) != (hx(record["start"]) & MASK48) or int(obj.DriverSize) != record["size"]:
            start_bad.append(record["name"])
        for index in range(28):
            if int(obj.MajorFunction[index]) & MASK48 != irp[(record["name"], index)] & MASK48:
                irp_bad.append((record["name"], index))
        devices = []
        device_va = int(obj.DeviceObject)
        for _ in range(512):
            if device_va == 0:
                break
            device = kernel.object("_DEVICE_OBJECT", offset=device_va & MASK48, absolute=True)
            try:
                name = device.get_device_name()
            except (ValueError, exceptions.InvalidAddressException):
                name = None
            extension = kernel.object("_DEVOBJ_EXTENSION", offset=int(device.DeviceObjectExtension) & MASK48, absolute=True)
            devices.append((device_va & MASK48, name, int(device.DeviceType), int(device.AttachedDevice) & MASK48, int(extension.AttachedTo) & MASK48, None))
            device_va = int(device.NextDevice)
        expected = sorted(
            (
                hx(d["objectVa"]) & MASK48,
                d["name"].rsplit("\\", 1)[1] if d["name"] else None,
                d["type"],
                hx(d["attachedDevice"]) & MASK48 if d["attachedDevice"] else 0,
                hx(d["attachedTo"]) & MASK48 if d["attachedTo"] else 0,
                d["nameResident"],
            )
            for d in record["devices"]
        )
        got = sorted(devices, key=lambda t: t[0])
        # A paged-out name reads as None in Volatility; a resident one must read right.
        same = len(got) == len(expected) and all(
            g[0] == e[0] and g[2:5] == e[2:5] and (g[1] == e[1] or (g[1] is None and not e[5])) for g, e in zip(got, expected)
        )
        if not same:
            dev_bad.append(record["name"])
    check("DriverStart / DriverSize", not start_bad, f"{start_bad[:5]}")
    check("MajorFunction[28] of every driver", not irp_bad, f"{len(irp_bad)} entries differ, e.g. {irp_bad[:3]}")
    check("device chains, names, types and stacks", not dev_bad, f"{dev_bad[:5]}")

    # Modules: the loader list and the MmLd pool scan.
    listed = {(int(m.DllBase) & MASK48, int(m.SizeOfImage)) for m in modules.Modules.list_modules(ctx, kernel.layer_name, kernel.symbol_table_name)}
    want_listed = {(hx(m["base"]) & MASK48, m["size"]) for m in truth["modules"] if not m["unlinked"]}
    check("PsLoadedModuleList", listed == want_listed, f"{len(listed)} vs {len(want_listed)}; extra {len(listed - want_listed)}, missing {len(want_listed - listed)}")
    scanned = {int(m.DllBase) & MASK48 for m in modscan.ModScan.scan_modules(ctx, kernel.layer_name, kernel.symbol_table_name)}
    want_all = {hx(m["base"]) & MASK48 for m in truth["modules"]}
    check("modscan (MmLd pool scan)", scanned == want_all, f"{len(scanned)} vs {len(want_all)}")

    # Symbolic links in \GLOBAL?? by Volatility's symlink pool scan (paged pool: scanned by VA or PA).
    links_by_va = {hx(l["objectVa"]) & MASK48: l for l in truth["links"]}
    va_of_pa = {}
    found_links, link_bad = set(), []
    for link in symlinkscan.SymlinkScan.scan_symlinks(ctx, kernel.layer_name, kernel.symbol_table_name):
        offset = link.vol.offset & MASK48
        if link.vol.layer_name != kernel.layer_name:
            offset = next((va for va in links_by_va if vlayer.translate(va)[0] == link.vol.offset), offset)
        record = links_by_va.get(offset)
        if not record:
            continue
        found_links.add(record["name"])
        try:
            target = link.LinkTarget.get_string()
        except exceptions.InvalidAddressException:
            target = None
        try:
            name = link.get_link_name()
        except (ValueError, exceptions.InvalidAddressException):
            name = None
        if target != record["target"] or (record["nameResident"] and name != record["name"].rsplit("\\", 1)[1]):
            link_bad.append((record["name"], name, target))
    missing_links = [l["name"] for l in truth["links"] if l["name"] not in found_links]
    check("symbolic links (objects, names, targets)", not missing_links and not link_bad, f"{len(found_links)}/{len(truth['links'])}; missing {missing_links[:3]}; wrong {link_bad[:3]}")

    print(f"{len(failures)} check(s) failed" if failures else "all checks agree with Volatility 3")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
