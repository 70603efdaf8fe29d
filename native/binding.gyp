{
  "targets": [
    {
      # Arithmetic that must match tfjs's float32 kernels bit for bit: no fused multiply-adds.
      "target_name": "punet_exact",
      "type": "static_library",
      "sources": ["adam.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-fPIC", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"]
    },
    {
      # punet's Winograd kernels for AVX-512 CPUs (16-float vectors), picked at run time.
      "target_name": "punet_winograd_avx512",
      "type": "static_library",
      "sources": ["winograd.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-fPIC", "-Wno-psabi", "-march=x86-64-v4", "-DPUNET_WINOGRAD_AVX512"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"]
    },
    {
      "target_name": "punet_dnnl",
      "dependencies": ["punet_exact", "punet_winograd_avx512"],
      "sources": ["dnnl_kernels.cc", "winograd.cc", "winograd_dispatch.cc", "pointwise.cc", "resample.cc", "reduce.cc", "elementwise.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
