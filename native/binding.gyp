{
  "targets": [
    {
      "target_name": "punet_dnnl",
      "sources": ["dnnl_kernels.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-fopenmp"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
