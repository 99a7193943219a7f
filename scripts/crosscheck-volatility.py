#!/usr/bin/env python3
"""Cross-checks a builder image against Volatility 3, an independent parser of the same layouts.

Usage: crosscheck-volatility.py <volatility3 checkout> <symbols dir> <image> <truth.json>
                                [--irpscope <irpscope analyze --json of the image>]

Volatility 3 is not part of IRPscope: fetch it yourself (git clone of volatilityfoundation/
volatility3, with python3-pefile installed) and point this script at it. The script asks
Volatility for what its own plugins find -- the kernel base and DTB, driverscan's pool scan,
the module list and modscan, each driver's IRP table, device chains and stacks, symbolic
links, and the callbacks plugin's notify routines and callbacks -- and compares it with
truth.json. It walks device chains itself (with NULL checks) because devicetree at some
Volatility revisions stops after a driver's first device. Callbacks are compared kind by kind:
each routine of the truth listed by Volatility with the truth's owner module, nothing listed
that the truth lacks. With --irpscope it compares IRPscope's callbacks with the truth as well,
and prints a table of both per kind.
Exit status 0 when everything agrees, 1 otherwise.
"""

import argparse
import json
import logging
import os
import pathlib
import sys
import tempfile

MASK48 = (1 << 48) - 1


def quiet(*_):
    """A progress callback that shows nothing."""


# Volatility's callbacks plugin names each kind by its Type column. Its pool scan of IoSh packets
# cannot tell the shutdown queue from the last-chance one, so its shutdown rows stand for both.
VOLATILITY_TYPES = {
    "process-notify": ("PspCreateProcessNotifyRoutine",),
    "thread-notify": ("PspCreateThreadNotifyRoutine",),
    "image-load-notify": ("PspLoadImageNotifyRoutine",),
    "registry": ("CmRegisterCallback", "CmRegisterCallbackEx"),
    "bugcheck": ("KeBugCheckCallbackListHead",),
    "bugcheck-reason": ("KeBugCheckReasonCallbackListHead",),
    "shutdown": ("IoRegisterShutdownNotification",),
    "last-chance-shutdown": ("IoRegisterShutdownNotification",),
    "fs-registration": ("IoRegisterFsRegistrationChange",),
}
# Its pool scan for Cbrb finds the EX_CALLBACK_ROUTINE_BLOCKs the notify arrays point to.
ROUTINE_BLOCKS = "GenericKernelCallback"
ROUTINE_BLOCKS_LABEL = "EX_CALLBACK_ROUTINE_BLOCK (Cbrb pool scan)"


def canonical(address):
    """A 48-bit address as the kernel writes it (bits 48-63 copies of bit 47)."""
    return address | (0xFFFF << 48) if address & (1 << 47) else address


def module_stem(name):
    """Volatility names a module by its file name without the extension."""
    return None if name is None else name.rsplit(".", 1)[0].lower()


def visible(text):
    """Image strings as Python literals: control, bidi and zero-width characters escaped."""
    return ascii(text)


def routine_text(entry):
    return f"{entry['routine']} ({entry['owner'] or 'no module'})"


def match_rows(entries, rows, unlinked):
    """Pairs each truth entry with a Volatility row for the same routine; judges the owner."""
    by_routine = {}
    for row in rows:
        by_routine.setdefault(row[1], []).append(row)
    outcome = {"agree": [], "unattributed": [], "wrong_owner": [], "missing": [], "extra": []}
    for entry in entries:
        candidates = by_routine.get(int(entry["routine"], 16) & MASK48)
        if not candidates:
            outcome["missing"].append(entry)
            continue
        row = candidates.pop(0)
        if module_stem(entry["owner"]) == module_stem(row[2]):
            outcome["agree"].append((entry, row))
        elif row[2] is None and entry["owner"] in unlinked:
            outcome["unattributed"].append((entry, row))
        else:
            outcome["wrong_owner"].append((entry, row))
    outcome["extra"] = [row for rows_left in by_routine.values() for row in rows_left]
    return outcome


def describe(outcome, total):
    found = len(outcome["agree"]) + len(outcome["unattributed"]) + len(outcome["wrong_owner"])
    parts = [f"{found}/{total} routines found, {len(outcome['agree'])} with the truth's owner"]
    if outcome["unattributed"]:
        parts.append(
            f"{len(outcome['unattributed'])} in a module unlinked from PsLoadedModuleList, which Volatility does not name: "
            + ", ".join(routine_text(e) for e, _ in outcome["unattributed"])
        )
    if outcome["wrong_owner"]:
        parts.append("owner differs: " + ", ".join(f"{routine_text(e)} vs {visible(r[2])}" for e, r in outcome["wrong_owner"]))
    if outcome["missing"]:
        parts.append("not listed by Volatility: " + ", ".join(routine_text(e) for e in outcome["missing"]))
    if outcome["extra"]:
        parts.append("listed by Volatility only: " + ", ".join(f"{canonical(r[1]):#x} ({visible(r[2])})" for r in outcome["extra"]))
    return "; ".join(parts)


def summary_cell(outcome, total):
    found = len(outcome["agree"]) + len(outcome["unattributed"]) + len(outcome["wrong_owner"])
    cell = f"{found}/{total}"
    if outcome["unattributed"]:
        cell += f", {len(outcome['unattributed'])} without owner (module unlinked)"
    if outcome["wrong_owner"]:
        cell += f", {len(outcome['wrong_owner'])} other owner"
    if outcome["extra"]:
        cell += f", {len(outcome['extra'])} extra"
    return cell


def detail_checks(kind, outcome, truth, check):
    """The Detail column: a bug-check record's Component, a shutdown packet's driver name."""
    pairs = outcome["agree"] + outcome["unattributed"] + outcome["wrong_owner"]
    if kind == "bugcheck":
        bad = [(e["component"], r[4]) for e, r in pairs if e["component"] != r[4]]
        check("callbacks bugcheck: Component names", not bad, visible(bad[:3]) if bad else "")
    elif kind == "bugcheck-reason":
        read = [r[4] for _, r in pairs]
        if any(e["component"] != r[4] for e, r in pairs):
            # wdm.h: KBUGCHECK_REASON_CALLBACK_RECORD { Entry, CallbackRoutine, Component, ... }, so
            # Component is at +0x18 on x64; Volatility's callbacks-x64.json reads it at +0x28.
            print(f"note callbacks bugcheck-reason: Volatility reads Component at +0x28 (wdm.h: +0x18); it shows {visible(read)}")
    elif kind in ("shutdown", "last-chance-shutdown"):
        names = {d["objectVa"]: d["name"] for d in truth["drivers"]}
        bad = [(names.get(e["driver"]), r[4]) for e, r in pairs if names.get(e["driver"]) != r[4]]
        check("callbacks shutdown: the registering driver's name", not bad, visible(bad[:3]) if bad else "")


def truth_kinds(truth):
    """The truth's kinds in the order of its heads."""
    kinds = [h["kind"] for h in truth["callbackHeads"]]
    return kinds + sorted({e["kind"] for e in truth["registeredCallbacks"]} - set(kinds))


def compare_callbacks(truth, rows, check, kernel):
    """Volatility's callbacks rows against truth.json's registeredCallbacks, kind by kind.

    Returns the summary: (label, truth kinds, truth entries, what Volatility found) per row."""
    entries = truth["registeredCallbacks"]
    unlinked = {m["name"] for m in truth["modules"] if m["unlinked"]}
    summary = []
    groups = {}
    for kind in truth_kinds(truth):
        types = VOLATILITY_TYPES.get(kind)
        if types is None:
            print(f"gap  callbacks {kind}: Volatility's callbacks plugin has no such kind")
            summary.append((kind, [kind], [e for e in entries if e["kind"] == kind], "no such kind"))
            continue
        groups.setdefault(types, []).append(kind)
    for types, kinds in groups.items():
        label = " + ".join(kinds)
        wanted = [e for e in entries if e["kind"] in kinds]
        outcome = match_rows(wanted, [r for r in rows if r[0] in types], unlinked)
        ok = not (outcome["wrong_owner"] or outcome["missing"] or outcome["extra"])
        detail = describe(outcome, len(wanted))
        if kinds == ["registry"] and outcome["missing"]:
            count = kernel.object("unsigned int", offset=kernel.get_symbol("CmpCallBackCount").address)
            detail += f"; Volatility walks the list only while CmpCallBackCount, here {int(count)}, is not 0"
        check(f"callbacks {label} ({', '.join(types)})", ok, detail)
        detail_checks(kinds[0], outcome, truth, check)
        summary.append((label, kinds, wanted, summary_cell(outcome, len(wanted))))
    blocks = [e for e in entries if e["block"]]
    outcome = match_rows(blocks, [r for r in rows if r[0] == ROUTINE_BLOCKS], unlinked)
    check(f"callbacks {ROUTINE_BLOCKS_LABEL}", not (outcome["wrong_owner"] or outcome["missing"] or outcome["extra"]), describe(outcome, len(blocks)))
    summary.append((ROUTINE_BLOCKS_LABEL, None, blocks, summary_cell(outcome, len(blocks))))
    known = {t for types in VOLATILITY_TYPES.values() for t in types} | {ROUTINE_BLOCKS}
    others = sorted({r[0] for r in rows if r[0] not in known})
    check("callbacks of kinds the truth does not have (DbgPrint, PnP notifications)", not others,
          ", ".join(f"{t}: {sum(1 for r in rows if r[0] == t)}" for t in others))
    return summary


def compare_irpscope_callbacks(truth, result, check):
    """IRPscope's `analyze --json` callbacks against the truth: each entry by kind and slot."""
    got = {(e["kind"], e["slot"]): e for e in result["callbacks"]["entries"]}
    right, extras = [], []
    for kind in truth_kinds(truth):
        wanted = [e for e in truth["registeredCallbacks"] if e["kind"] == kind]
        bad = []
        for entry in wanted:
            mine = got.pop((kind, entry["slot"]), None)
            same = mine is not None and (
                int(mine["routine"]["address"], 16) == int(entry["routine"], 16)
                and (mine["owner"] or "").lower() == (entry["owner"] or "").lower()
                and int(mine["entry"], 16) == int(entry["entry"], 16)
                and (mine["block"] and int(mine["block"], 16)) == (entry["block"] and int(entry["block"], 16))
            )
            if same:
                right.append(entry)
            else:
                bad.append((entry["slot"], routine_text(entry), mine and f"{mine['routine']['address']} ({visible(mine['owner'])})"))
        extra = [e for (k, _), e in got.items() if k == kind]
        head = next((h for h in result["callbacks"]["heads"] if h["kind"] == kind), None)
        head_wanted = next(h for h in truth["callbackHeads"] if h["kind"] == kind)
        head_ok = head is not None and head["address"] is not None and int(head["address"], 16) == int(head_wanted["address"], 16)
        check(f"IRPscope callbacks {kind}", not bad and not extra and head_ok,
              f"{len(wanted) - len(bad)}/{len(wanted)} with slot, routine and owner; head {'right' if head_ok else 'wrong'}"
              + (f"; differ {bad[:3]}" if bad else "") + (f"; IRPscope only {len(extra)}" if extra else ""))
        extras += extra
    return right, extras


def print_summary(volatility, irpscope):
    """One row per kind Volatility can tell apart: how many of the truth's entries each side found."""
    print("| kind | truth (planted) | IRPscope | Volatility 3 |")
    print("| --- | --- | --- | --- |")
    for label, kinds, wanted, found in volatility:
        planted = sum(1 for e in wanted if e["planted"])
        mine = "—"
        if irpscope is not None:
            right, extras = irpscope
            mine = f"{sum(1 for e in wanted if e in right)}/{len(wanted)}"
            extra = [e for e in extras if kinds is None and e["block"] or kinds and e["kind"] in kinds]
            mine += f", {len(extra)} extra" if extra else ""
        print(f"| {label} | {len(wanted)} ({planted}) | {mine} | {found} |")


def callback_rows(ctx, automagic, available, plugins):
    """Volatility's windows.callbacks plugin, run whole: (type, routine, module, symbol, detail) per row."""
    from volatility3.framework import interfaces
    from volatility3.plugins.windows import callbacks

    chosen = automagic.choose_automagic(available, callbacks.Callbacks)
    plugin = plugins.construct_plugin(ctx, chosen, callbacks.Callbacks, "plugins", quiet, None)
    rows = []

    def present(value):
        return None if isinstance(value, interfaces.renderers.BaseAbsentValue) else value

    def visit(node, _accumulator):
        kind, routine, module, symbol, detail = node.values
        rows.append((kind, int(routine) & MASK48, present(module), present(symbol), present(detail) and str(detail)))

    plugin.run().populate(visit, None)
    # For a module without a symbol table the plugin looks the routine's offset in the module up in
    # every table loaded (the kernel's), and prints one row per symbol found there: one callback, many
    # rows, each with a kernel symbol that is not the routine's. Those rows are one.
    unique = list(dict.fromkeys((kind, routine, module, detail) for kind, routine, module, symbol, detail in rows if symbol is not None))
    unique_rows = [r for r in rows if r[3] is None] + [(kind, routine, module, None, detail) for kind, routine, module, detail in unique]
    if len(unique_rows) < len(rows):
        print(
            f"note Volatility printed {len(rows) - len(unique_rows)} callback row(s) once more: it names a routine in a driver"
            " by whatever symbol sits at the same offset in the kernel, a row per symbol table holding it"
        )
    return unique_rows


def timer_rows(ctx, automagic, available, plugins):
    """Volatility's windows.timers: the plugin's rows (KTIMER, period, routine, module), and the
    timers its list_timers walk reaches (KTIMER, period, routine), each DPC decoded as the plugin's
    KTIMER.get_dpc does but from the stored qword itself: get_raw_dpc reads it as a pointer, which
    Volatility masks to 48 bits, and an encoded value is not a pointer (x64, Windows 7 on)."""
    from volatility3.framework import constants, interfaces
    from volatility3.framework.objects import utility
    from volatility3.plugins.windows import timers

    chosen = automagic.choose_automagic(available, timers.Timers)
    plugin = plugins.construct_plugin(ctx, chosen, timers.Timers, "plugins", quiet, None)
    rows = []

    def visit(node, _accumulator):
        offset, _due, period, _signaled, routine, module, _symbol = node.values
        absent = isinstance(module, interfaces.renderers.BaseAbsentValue)
        rows.append((int(offset) & MASK48, int(period), int(routine) & MASK48, None if absent else module))

    plugin.run().populate(visit, None)
    kernel = ctx.modules[plugin.config["kernel"]]
    layer = ctx.layers[kernel.layer_name]
    table = kernel.symbol_table_name
    keys = None
    if kernel.has_symbol("KiWaitNever") and kernel.has_symbol("KiWaitAlways"):
        read = lambda name: int.from_bytes(layer.read(kernel.offset + kernel.get_symbol(name).address, 8), "little")
        keys = (read("KiWaitNever"), read("KiWaitAlways"))
    walked = []
    for timer in timers.Timers.list_timers(ctx, plugin.config["kernel"], kernel.layer_name, table):
        if not timer.valid_type():
            continue
        stored = int.from_bytes(layer.read(timer.Dpc.vol.offset, 8 if keys else 4), "little")
        dpc = stored
        if keys:
            dpc = utility.rol(stored ^ keys[0], keys[0] & 0xFF)
            dpc = utility.bswap_64(dpc ^ layer.canonicalize(timer.vol.offset)) ^ keys[1]
        if dpc == 0:
            continue
        kdpc = ctx.object(table + constants.BANG + "_KDPC", layer_name=kernel.layer_name, offset=dpc & MASK48)
        walked.append((timer.vol.offset & MASK48, int(timer.Period), int(kdpc.DeferredRoutine) & MASK48, None))
    # One timer is printed once per symbol found at its routine (see callback_rows): one row each.
    return list(dict.fromkeys(rows)), walked


def match_timers(truth, rows, named):
    """Pairs truth timers with rows by KTIMER; with `named` rows, a row's module must be the owner's."""
    unlinked = {m["name"] for m in truth["modules"] if m["unlinked"]}
    by_timer = {row[0]: row for row in rows}
    agree, wrong, missing = [], [], []
    for timer in truth["timers"]:
        row = by_timer.pop(int(timer["timer"], 16) & MASK48, None)
        if row is None:
            missing.append(timer)
        elif row[2] != int(timer["routine"], 16) & MASK48 or row[1] != timer["period"]:
            wrong.append((timer, row))
        elif named and module_stem(timer["owner"]) != module_stem(row[3]) and not (row[3] is None and timer["owner"] in unlinked):
            wrong.append((timer, row))
        else:
            agree.append(timer)
    detail = f"{len(agree) + len(wrong)}/{len(truth['timers'])} timers found, {len(agree)} with the truth's routine and period"
    if wrong:
        detail += "; differ: " + ", ".join(f"{t['timer']} {routine_text(t)} vs {r[2]:#x} ({visible(r[3])})" for t, r in wrong[:3])
    if missing:
        detail += "; not listed: " + ", ".join(f"{t['timer']} {routine_text(t)}" for t in missing[:3])
    extra = list(by_timer.values())
    if extra:
        detail += "; listed only by Volatility: " + ", ".join(f"{canonical(r[0]):#x}" for r in extra[:3])
    return not (wrong or missing or extra), detail, f"{len(agree) + len(wrong)}/{len(truth['timers'])}" + (f", {len(extra)} extra" if extra else "")


def compare_timers(truth, found, check):
    """Volatility's timers against truth.json's timers: the plugin's rows, and its own walk of the tables."""
    rows, walked = found
    ok, detail, cell = match_timers(truth, walked, False)
    check("timers: Volatility's walk of the timer tables (KTIMER, DPC routine, period)", ok, detail)
    plugin_ok, plugin_detail, plugin_cell = match_timers(truth, rows, True)
    if plugin_ok:
        check("timers: the windows.timers plugin's rows (with owner module)", True, plugin_detail)
        return ("timer", ["timer"], truth["timers"], plugin_cell)
    if not rows and ok and truth["arch"] == "x64":
        print(f"gap  timers: the windows.timers plugin printed no row: it decodes the DPC from a 48-bit-masked read of KTIMER.Dpc (get_raw_dpc reads a pointer); decoded from the whole qword its own walk finds {cell}")
        return ("timer", ["timer"], truth["timers"], f"plugin 0/{len(truth['timers'])}; its walk {cell}")
    check("timers: the windows.timers plugin's rows (with owner module)", False, plugin_detail)
    return ("timer", ["timer"], truth["timers"], plugin_cell)


def compare_irpscope_timers(truth, result, check):
    """IRPscope's timer entries against the truth: each KTIMER with its DPC, routine and owner."""
    got = {int(e["entry"], 16): e for e in result["callbacks"]["entries"] if e["kind"] == "timer"}
    right, bad = [], []
    for timer in truth["timers"]:
        mine = got.pop(int(timer["timer"], 16), None)
        same = mine is not None and (
            int(mine["block"], 16) == int(timer["dpc"], 16)
            and int(mine["routine"]["address"], 16) == int(timer["routine"], 16)
            and (mine["owner"] or "").lower() == (timer["owner"] or "").lower()
            and mine.get("period") == timer["period"]
        )
        (right if same else bad).append(timer)
    check("IRPscope timers", not bad and not got, f"{len(right)}/{len(truth['timers'])} with DPC, routine, owner and period"
          + (f"; differ {[t['timer'] for t in bad[:3]]}" if bad else "") + (f"; IRPscope only {len(got)}" if got else ""))
    return right, list(got.values())


def main():
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("volatility", help="a Volatility 3 checkout")
    arguments.add_argument("symbols", help="the ISF directory (../shared/isf)")
    arguments.add_argument("image")
    arguments.add_argument("truth", help="the builder's truth.json")
    arguments.add_argument("--irpscope", metavar="RESULT", help="`irpscope analyze --json` of the image: compare its callbacks too")
    options = arguments.parse_args()
    vol_dir, truth_path = options.volatility, options.truth
    # Volatility resolves a relative symbol directory against its own source folder, not ours.
    symbols_dir = os.path.abspath(options.symbols)
    image_url = pathlib.Path(options.image).resolve().as_uri()
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

    volatility = compare_callbacks(truth, callback_rows(ctx, automagic, available, plugins), check, kernel)
    irpscope = None
    if options.irpscope:
        irpscope = compare_irpscope_callbacks(truth, json.load(open(options.irpscope)), check)
    if "timers" not in truth:
        print("note truth.json lists no timers: Volatility's timers plugin is not compared")
    else:
        volatility.append(compare_timers(truth, timer_rows(ctx, automagic, available, plugins), check))
        if options.irpscope:
            right, extras = compare_irpscope_timers(truth, json.load(open(options.irpscope)), check)
            irpscope = (irpscope[0] + right, irpscope[1] + extras)
    print_summary(volatility, irpscope)

    print(f"{len(failures)} check(s) failed" if failures else "all checks agree with Volatility 3")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
