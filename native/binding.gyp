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
      "target_name": "punet_dnnl",
      "dependencies": ["punet_exact"],
      "sources": ["dnnl_kernels.cc", "winograd.cc", "pointwise.cc", "resample.cc", "reduce.cc", "elementwise.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
