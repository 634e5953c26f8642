"""Link flags that take gRPC, protobuf and Abseil from Debian's static archives.

For short-lived command-line tools whose start-up time matters (health_probe
runs every few seconds in every container). Debian builds its shared
libraries with -z now, so a binary linked against the 50-odd shared objects
of grpc++ pays for mapping and relocating all of them on every start
(~14 ms on the benchmark machine); with these flags it maps five (libc,
libstdc++, libgcc_s, libm, libz).

How it works: a binary's own linkopts come right after its objects on the
link line, before the -l flags of @system//:grpc and @system//:absl. Inside
-Bstatic, every symbol resolves from the .a archives (a group, so that the
archives may refer to each other in any order); --as-needed then drops the
shared libraries named later, because nothing is left for them to resolve.
Check with `ldd`: no libgrpc*, libprotobuf or libabsl_* may remain (two
copies of protobuf in one process would abort at start-up).

The list comes from `pkg-config --static --libs-only-l` at fetch time
(bazel/repositories.bzl, `static_libs`), minus the libraries glibc holds and
zlib, which stays shared. A tool that uses more of Abseil needs those modules
added there.
"""

load("@system//:static_libs.bzl", "STATIC_GRPC_LIBS")

STATIC_GRPC_LINKOPTS = [
    "-Wl,--as-needed",
    "-Wl,-Bstatic",
    "-Wl,--start-group",
] + ["-l" + lib for lib in STATIC_GRPC_LIBS] + [
    "-Wl,--end-group",
    "-Wl,-Bdynamic",
]
