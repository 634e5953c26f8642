"""Repositories for an offline build with Debian's Bazel 4.2.3.

Nothing is downloaded: rules come from /usr/share/bazel (packages bazel-rules-cc,
bazel-rules-java) and C/C++ libraries from the system through pkg-config.
"""

load("//bazel:pkg_config.bzl", "pkg_config_repository")

_DEBIAN_RULES = "/usr/share/bazel/rules"

def _debian_rules_cc_impl(ctx):
    # Debian's rules_cc 0.0.4 calls use_cpp_toolchain(), which Bazel 4.2.3
    # lacks. Copy it and spell out the toolchain type instead.
    # A Debian update that changes these files must stop the build here, not
    # leave an unpatched copy that fails later with an obscure error.
    src = ctx.path(_DEBIAN_RULES + "/cc")
    if not src.exists:
        fail("%s is missing: run `make deps` (package bazel-rules-cc)" % src)
    result = ctx.execute(["cp", "-r", str(src) + "/.", "."])
    if result.return_code != 0:
        fail("copying %s failed: %s" % (src, result.stderr))
    for f in [
        "cc/private/rules_impl/cc_flags_supplier.bzl",
        "cc/private/rules_impl/compiler_flag.bzl",
    ]:
        text = ctx.read(f)
        for old, new in [
            (', "use_cpp_toolchain")', ")"),
            ("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]'),
        ]:
            if old not in text:
                fail("cannot patch %s/%s: '%s' not found; Debian's rules_cc changed, " % (src, f, old) +
                     "update _debian_rules_cc_impl in bazel/repositories.bzl")
            text = text.replace(old, new)
        ctx.file(f, text)

_debian_rules_cc = repository_rule(implementation = _debian_rules_cc_impl, local = True)

def _empty_coverage_tools_impl(ctx):
    # `bazel test` resolves @remote_coverage_tools even without --coverage.
    ctx.file("WORKSPACE", "")
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator")
filegroup(name = "lcov_merger")
""")

_empty_coverage_tools = repository_rule(implementation = _empty_coverage_tools_impl)

def rts_repositories():
    _debian_rules_cc(name = "rules_cc")
    native.local_repository(name = "rules_java", path = _DEBIAN_RULES + "/java")
    _empty_coverage_tools(name = "remote_coverage_tools")

    # grpc.health.v1 and friends, from Debian's grpc-proto package.
    native.new_local_repository(
        name = "grpc_proto",
        path = "/usr/share/grpc-proto",
        build_file_content = 'exports_files(glob(["**/*.proto"]))',
    )
    pkg_config_repository(
        name = "system",
        packages = {
            # target name: pkg-config module(s)
            "absl": ["absl_status", "absl_statusor", "absl_strings", "absl_str_format",
                     "absl_flags", "absl_flags_parse", "absl_flags_usage", "absl_synchronization",
                     "absl_time", "absl_random_random", "absl_hash", "absl_flat_hash_map"],
            "benchmark": ["benchmark"],
            "fontconfig": ["fontconfig"],
            "glib": ["glib-2.0", "gobject-2.0", "gio-2.0"],
            "grpc": ["grpc++", "protobuf"],
            "gstreamer": ["gstreamer-1.0", "gstreamer-base-1.0", "gstreamer-app-1.0",
                          "gstreamer-video-1.0", "gstreamer-pbutils-1.0"],
            "gst_rtsp_server": ["gstreamer-rtsp-server-1.0", "gstreamer-rtsp-1.0", "gstreamer-sdp-1.0",
                                "gstreamer-rtp-1.0"],
            "gtest": ["gtest", "gmock"],
            "gtest_main": ["gtest_main"],
            "nlohmann_json": ["nlohmann_json"],  # header-only
            "protobuf": ["protobuf"],
            "yaml_cpp": ["yaml-cpp"],
        },
        extra_libs = {"grpc": ["-lgrpc++_reflection"]},
        static_libs = {
            # What health_probe links statically (tools/health_probe/static_link.bzl).
            "static_grpc_libs": ["grpc++", "protobuf", "absl_status", "absl_statusor", "absl_strings",
                                 "absl_str_format", "absl_time", "absl_synchronization"],
        },
    )
