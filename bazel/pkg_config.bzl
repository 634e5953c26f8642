"""pkg_config_repository: system libraries as cc_library targets.

Each entry of `packages` becomes `@<repo>//:<target>`, built from what
`pkg-config --cflags/--libs` says about its modules. BUILD files depend on
`@system//:gstreamer` instead of carrying -I and -l lists.

Bazel refuses include paths outside the execution root, so each include
directory is symlinked into this repository and exported through `includes`
(which also makes dependents see it as -isystem). /usr/include itself and the
multiarch directory are already the compiler's own search path and are skipped.
"""

_BUILTIN_INCLUDE_DIRS = ["/usr/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"]

def _run(ctx, args):
    result = ctx.execute(["pkg-config"] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed (run `make deps` to install bazel/debian-packages.txt): %s" %
             (" ".join(args), result.stderr))
    return [f for f in result.stdout.strip().split(" ") if f]

def _quoted(items):
    return "[" + ", ".join(['"%s"' % i for i in items]) + "]"

def _pkg_config_repository_impl(ctx):
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for target, modules in ctx.attr.packages.items():
        includes, defines, copts = [], [], []
        for flag in _run(ctx, ["--cflags"] + modules):
            if flag.startswith("-I"):
                path = flag[2:]
                if path in _BUILTIN_INCLUDE_DIRS:
                    continue
                link = "inc" + path.replace("/", "_")
                if not ctx.path(link).exists:
                    ctx.symlink(path, link)
                includes.append(link)
            elif flag.startswith("-D"):
                defines.append(flag[2:])
            else:
                copts.append(flag)
        libs = _run(ctx, ["--libs"] + modules) + ctx.attr.extra_libs.get(target, [])
        build.append("""cc_library(
    name = "%s",
    hdrs = glob([%s], allow_empty = True),
    includes = %s,
    defines = %s,
    copts = %s,
    linkopts = %s,
)
""" % (target, ", ".join(['"%s/**"' % i for i in includes]), _quoted(includes),
       _quoted(defines), _quoted(copts), _quoted(libs + copts)))
    ctx.file("BUILD.bazel", "\n".join(build))
    ctx.file("WORKSPACE", "")

pkg_config_repository = repository_rule(
    implementation = _pkg_config_repository_impl,
    attrs = {
        "packages": attr.string_list_dict(mandatory = True),
        # Libraries that ship no .pc file (e.g. grpc++_reflection): target -> -l flags.
        "extra_libs": attr.string_list_dict(),
    },
    local = True,
)
