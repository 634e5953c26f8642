#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer above its own.

The layers (docs/architecture.md), lowest first:

    common  <-  {config, core, health}  <-  control  <-  app

gateway/ and tools/ stand on common/ and the protos only; plugins/ on the
plugin SDK only. Each rule below lists the project folders a folder may
include from; includes of system and third-party headers are not checked.

Usage: check_layers.py [ROOT]   (default: the current directory)
Exit status: 0 when every include points down, 1 with one line per
violation ("core/media/x.cc:12: includes control/... (core/ may include
only common/, core/, plugins/sdk/, protos)") otherwise.
"""
import os
import re
import sys

# Generated protobuf headers are included by their proto path.
PROTOS = ("rtsptest/", "grpc/health/")
PROJECT = ("app/", "bench/", "common/", "config/", "control/", "core/", "gateway/",
           "health/", "plugins/", "tests/", "tools/") + PROTOS

# folder -> the include prefixes it may use.
ALLOWED = {
    "common": ("common/",),
    "config": ("common/", "config/") + PROTOS,
    "core": ("common/", "core/", "plugins/sdk/") + PROTOS,
    "health": ("common/", "health/") + PROTOS,
    "control": ("common/", "config/", "core/", "health/", "control/") + PROTOS,
    "gateway": ("common/", "gateway/") + PROTOS,
    "tools": ("common/", "tools/") + PROTOS,
    "plugins": ("plugins/",),
    "bench": ("common/", "tools/", "bench/") + PROTOS,
}
SOURCE = re.compile(r"\.(c|cc|cpp|h|hpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def violations(root):
    for layer, allowed in sorted(ALLOWED.items()):
        top = os.path.join(root, layer)
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if not SOURCE.search(name):
                    continue
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        header = match.group(1)
                        if header.startswith(PROJECT) and not header.startswith(allowed):
                            yield (f"{rel}:{number}: includes {header} ({layer}/ may include only "
                                   f"{', '.join(a for a in allowed if a not in PROTOS)}"
                                   f"{', protos' if PROTOS[0] in allowed else ''})")


def main(argv):
    root = argv[1] if len(argv) > 1 else "."
    if not os.path.isdir(os.path.join(root, "common")):
        print(f"check_layers: {root} has no common/ folder; pass the repository root",
              file=sys.stderr)
        return 2
    found = list(violations(root))
    for line in found:
        print(line)
    if found:
        print(f"check_layers: {len(found)} include(s) point up a layer", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
