{
  "targets": [
    {
      "target_name": "punet_dnnl",
      "sources": ["dnnl_kernels.cc", "winograd.cc", "adam.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-ffp-contract=off", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
