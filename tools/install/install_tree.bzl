# tapegrad/tools/install/install_tree.bzl: the rule that lays out an installable tapegrad (what
# tools/install.sh copies to a prefix). From a cc_library's CcInfo it takes every archive of
# tapegrad's own libraries (PIC), tapegrad's headers (generated proto headers included), the
# defines they need and the link flags of the system libraries, and hands them to make_tree.sh,
# which links libtapegrad.so / libtapegrad.a and writes the pkg-config and CMake files.
#
# A plain cc_binary(linkshared = True) would link only the objects something references and drop
# the op rows that register themselves; here every archive goes in whole.

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

# The repository this file lives in: "" when tapegrad is the main repository, "tapegrad" when a
# project depends on it.
_OURS = Label("//:BUILD.bazel").workspace_name

def _installed_path(f):
    # "autograd/tensor.h", also for generated headers and from an external repository, whose
    # short_path starts with "../tapegrad/".
    path = f.short_path
    if path.startswith("../"):
        path = path.split("/", 2)[2]
    return path

def _install_tree_impl(ctx):
    cc_info = ctx.attr.library[CcInfo]
    public_owners = [dep.label for dep in ctx.attr.public_deps]
    archives, public_flags, private_flags = [], [], []
    for linker_input in cc_info.linking_context.linker_inputs.to_list():
        if linker_input.owner.workspace_name == _OURS:
            for library in linker_input.libraries:
                archive = library.pic_static_library or library.static_library
                if archive and archive not in archives:
                    archives.append(archive)
            continue
        flags = public_flags if linker_input.owner in public_owners else private_flags
        for flag in linker_input.user_link_flags:
            if flag not in flags:
                flags.append(flag)
    private_flags = [f for f in private_flags if f not in public_flags]
    headers = [h for h in cc_info.compilation_context.headers.to_list() if h.owner.workspace_name == _OURS]

    lines = ["archive " + a.path for a in archives]
    lines += ["header %s %s" % (h.path, _installed_path(h)) for h in headers]
    lines += ["define " + d for d in cc_info.compilation_context.defines.to_list()]
    lines += ["public_flag " + f for f in public_flags]
    lines += ["private_flag " + f for f in private_flags]
    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest")
    ctx.actions.write(manifest, "\n".join(lines) + "\n")

    cc_toolchain = find_cpp_toolchain(ctx)
    tree = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run(
        executable = ctx.executable._make_tree,
        arguments = [tree.path, manifest.path, ctx.file.version.path, cc_toolchain.compiler_executable, cc_toolchain.ar_executable],
        inputs = depset([manifest, ctx.file.version] + archives + headers, transitive = [cc_toolchain.all_files]),
        outputs = [tree],
        use_default_shell_env = True,  # PATH, for the compiler driver to find ld
        mnemonic = "TapegradInstallTree",
        progress_message = "Linking libtapegrad and laying out %s" % tree.short_path,
    )
    return [DefaultInfo(files = depset([tree]))]

install_tree = rule(
    implementation = _install_tree_impl,
    attrs = {
        "library": attr.label(providers = [CcInfo], mandatory = True),
        # System libraries whose headers tapegrad's public headers include: a program that
        # includes tapegrad links them itself (pkg-config Libs, CMake INTERFACE_LINK_LIBRARIES);
        # the other system libraries are private to libtapegrad.so (Libs.private).
        "public_deps": attr.label_list(providers = [CcInfo]),
        "version": attr.label(allow_single_file = True, mandatory = True),
        "_make_tree": attr.label(default = ":make_tree", executable = True, cfg = "exec"),
        "_cc_toolchain": attr.label(default = Label("@bazel_tools//tools/cpp:current_cc_toolchain")),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    incompatible_use_toolchain_transition = True,
)
