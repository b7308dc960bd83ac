{
  "targets": [
    {
      "target_name": "segkit",
      "sources": [
        "native/addon.cc",
        "native/tensor.cc",
        "native/dispatch.cc",
        "native/runtime.cc",
        "native/crf.cc",
        "native/allocator.cc",
        "native/heap.cc",
        "native/optim.cc",
        "native/dnnl_conv.cc",
        "native/dnnl_plan.cc"
      ],
      "include_dirs": ["<!@(node scripts/find-libtorch.mjs --include)", "<!@(node scripts/find-libtorch.mjs --dnnl-include)"],
      "libraries": [
        "-L<!(node scripts/find-libtorch.mjs --libdir)",
        "-Wl,-rpath,<!(node scripts/find-libtorch.mjs --libdir)",
        "-ltorch", "-ltorch_cpu", "-lc10",
        "<!@(node scripts/find-libtorch.mjs --dnnl-libs)",
        "<!@(node scripts/find-libtorch.mjs --cuda-libs)"
      ],
      "defines": ["_GLIBCXX_USE_CXX11_ABI=<!(node scripts/find-libtorch.mjs --abi)", "NAPI_VERSION=8", "SEGKIT_DNNL=<!(node scripts/find-libtorch.mjs --dnnl-define)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
