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

The list is `pkg-config --static --libs grpc++ protobuf absl_status
absl_statusor absl_strings absl_str_format absl_time absl_synchronization`
on Debian 12, with duplicates, -ldl, -lrt, -lm, -pthread and -latomic dropped
(glibc 2.36 holds the first ones; x86-64 needs no libatomic here) and -lz
left shared. A tool that uses more of Abseil needs those archives added.
"""

STATIC_GRPC_LIBS = [
    "grpc++",
    "grpc",
    "address_sorting",
    "re2",
    "upb",
    "cares",
    "gpr",
    "ssl",
    "crypto",
    "protobuf",
    "absl_statusor",
    "absl_status",
    "absl_cord",
    "absl_cordz_info",
    "absl_cord_internal",
    "absl_cordz_functions",
    "absl_cordz_handle",
    "absl_exponential_biased",
    "absl_raw_hash_set",
    "absl_hashtablez_sampler",
    "absl_hash",
    "absl_city",
    "absl_low_level_hash",
    "absl_random_distributions",
    "absl_random_seed_sequences",
    "absl_random_internal_pool_urbg",
    "absl_random_internal_randen",
    "absl_random_internal_randen_hwaes",
    "absl_random_internal_randen_hwaes_impl",
    "absl_random_internal_randen_slow",
    "absl_random_internal_platform",
    "absl_random_internal_seed_material",
    "absl_random_seed_gen_exception",
    "absl_bad_optional_access",
    "absl_bad_variant_access",
    "absl_strerror",
    "absl_str_format_internal",
    "absl_synchronization",
    "absl_graphcycles_internal",
    "absl_stacktrace",
    "absl_symbolize",
    "absl_debugging_internal",
    "absl_demangle_internal",
    "absl_malloc_internal",
    "absl_time",
    "absl_civil_time",
    "absl_time_zone",
    "absl_strings",
    "absl_strings_internal",
    "absl_throw_delegate",
    "absl_base",
    "absl_raw_logging_internal",
    "absl_spinlock_wait",
    "absl_int128",
    "absl_log_severity",
]

STATIC_GRPC_LINKOPTS = [
    "-Wl,--as-needed",
    "-Wl,-Bstatic",
    "-Wl,--start-group",
] + ["-l" + lib for lib in STATIC_GRPC_LIBS] + [
    "-Wl,--end-group",
    "-Wl,-Bdynamic",
]
