# tapegrad/deps.bzl: every repository tapegrad's targets need, for tapegrad's own WORKSPACE and for
# a project that depends on tapegrad. In the consumer's WORKSPACE (Bazel 4, WORKSPACE mode):
#   local_repository(name = "tapegrad", path = "/path/to/tapegrad")   # or an http_archive
#   load("@tapegrad//:deps.bzl", "tapegrad_dependencies")
#   tapegrad_dependencies()
# Each repository is skipped if the workspace already defines one of that name. The system
# libraries are Debian's -dev packages (tools/setup.sh installs them; see the README for the list).

def _tapegrad_directory_impl(ctx):
    # A directory inside the tapegrad repository, offered as a repository of its own: found from
    # a label, so it works wherever tapegrad itself lives (main or external repository).
    source = ctx.path(ctx.attr.marker).dirname
    for child in source.readdir():
        ctx.symlink(child, child.basename)

_tapegrad_directory = repository_rule(
    implementation = _tapegrad_directory_impl,
    attrs = {"marker": attr.label(allow_single_file = True)},
    local = True,
)

def _maybe(rule, name, **kwargs):
    if not native.existing_rule(name):
        rule(name = name, **kwargs)

# (repository name, Debian header directory, BUILD file in third_party/system)
_SYSTEM_LIBRARIES = [
    ("absl", "/usr/include/absl", "absl.BUILD"),
    ("gtest", "/usr/include/gtest", "gtest.BUILD"),
    ("benchmark", "/usr/include/benchmark", "benchmark.BUILD"),
    ("dnnl", "/usr/include/oneapi/dnnl", "dnnl.BUILD"),
    ("openblas", "/usr/include/x86_64-linux-gnu", "openblas.BUILD"),
    ("zlib", "/usr/include", "zlib.BUILD"),
    ("png", "/usr/include/libpng16", "png.BUILD"),
    ("turbojpeg", "/usr/include", "turbojpeg.BUILD"),
    ("protobuf", "/usr/include/google/protobuf", "protobuf.BUILD"),
    ("mpi", "/usr/lib/x86_64-linux-gnu/openmpi", "mpi.BUILD"),
    ("onnx", "/usr/include/onnx", "onnx.BUILD"),
]

def tapegrad_dependencies():
    # Bazel 4.2.3's autoconfigured C++ toolchain loads @rules_cc//cc:defs.bzl: an offline facade
    # over the native rules. Its test rules name @remote_coverage_tools (never run here).
    _maybe(_tapegrad_directory, "rules_cc", marker = Label("//third_party/rules_cc:WORKSPACE"))
    _maybe(_tapegrad_directory, "remote_coverage_tools", marker = Label("//third_party/remote_coverage_tools:WORKSPACE"))

    # Debian's bazel-rules-java (package bazel-bootstrap).
    _maybe(native.local_repository, "rules_java", path = "/usr/share/bazel/rules/java")
    for name, path, build_file in _SYSTEM_LIBRARIES:
        _maybe(
            native.new_local_repository,
            name,
            path = path,
            build_file = str(Label("//third_party/system:" + build_file)),
        )
