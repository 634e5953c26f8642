"""Rule macros that hold the project's shared compiler and linker settings.

Every C++ target in the tree goes through one of these, so warnings, system
include paths and plugin visibility rules live in one place.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

RTS_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
    # GLib's G_DEFINE_TYPE and signal casts trip this in C++.
    "-Wno-cast-function-type",
]

def rts_cc_library(name, copts = [], **kwargs):
    cc_library(name = name, copts = RTS_COPTS + copts, **kwargs)

def rts_cc_binary(name, copts = [], **kwargs):
    cc_binary(name = name, copts = RTS_COPTS + copts, **kwargs)

def rts_cc_test(name, copts = [], deps = [], size = "small", **kwargs):
    """A GoogleTest test; `//tests/util:test_main` sets up GStreamer hermetically."""
    cc_test(
        name = name,
        copts = RTS_COPTS + copts,
        deps = deps + ["//tests/util:test_main", "@system//:gtest"],
        size = size,
        **kwargs
    )

def rts_cc_plugin(name, srcs, deps = [], copts = [], visibility = None, **kwargs):
    """A source plugin: builds lib<name>.so that the server loads with dlopen.

    Only the entry point emitted by RTS_PLUGIN_DEFINE is exported; everything
    else is hidden so that two plugins can never clash over a symbol.
    """
    cc_binary(
        name = "lib%s.so" % name,
        srcs = srcs,
        copts = RTS_COPTS + ["-fvisibility=hidden"] + copts,
        deps = deps + ["//plugins/sdk"],
        linkshared = True,
        linkstatic = True,
        visibility = visibility,
        **kwargs
    )

def rts_proto_library(name, srcs, deps = [], grpc = False, visibility = None):
    """Protobuf (and optionally gRPC) C++ code from the system protoc.

    Targets, following gRPC's naming: `<name>` (the .proto files, for other
    proto libraries), `<base>_cc_proto` and, with grpc, `<base>_cc_grpc`,
    where <base> is <name> without its `_proto` suffix. Import paths are
    relative to //proto, e.g. "rtsptest/config/v1/config.proto".
    """
    base = name[:-len("_proto")] if name.endswith("_proto") else name
    native.filegroup(name = name, srcs = srcs + deps, visibility = visibility)
    stems = [s[:-len(".proto")] for s in srcs]
    pb = [s + ".pb.h" for s in stems] + [s + ".pb.cc" for s in stems]
    gpb = [s + ".grpc.pb.h" for s in stems] + [s + ".grpc.pb.cc" for s in stems]
    outs = pb + (gpb if grpc else [])
    grpc_flags = "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=$(GENDIR)/proto " if grpc else ""
    native.genrule(
        name = base + "_protoc",
        srcs = srcs + deps,
        outs = outs,
        cmd = "protoc --proto_path=proto --proto_path=/usr/include --cpp_out=$(GENDIR)/proto " +
              grpc_flags + " ".join(["$(location %s)" % s for s in srcs]),
    )
    dep_libs = [d.replace("_proto", "_cc_proto") for d in deps]
    cc_library(
        name = base + "_cc_proto",
        srcs = [s + ".pb.cc" for s in stems],
        hdrs = [s + ".pb.h" for s in stems],
        strip_include_prefix = "/proto",
        deps = dep_libs + ["@system//:protobuf"],
        visibility = visibility,
    )
    if grpc:
        cc_library(
            name = base + "_cc_grpc",
            srcs = [s + ".grpc.pb.cc" for s in stems],
            hdrs = [s + ".grpc.pb.h" for s in stems],
            strip_include_prefix = "/proto",
                deps = [base + "_cc_proto", "@system//:grpc"],
            visibility = visibility,
        )

def rts_cc_fuzz_target(name, **kwargs):
    """A libFuzzer target: built only with --config=fuzz (clang), by
    scripts/run_fuzz.sh; `//...` skips it (manual)."""
    cc_binary(
        name = name,
        copts = RTS_COPTS,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        **kwargs
    )
