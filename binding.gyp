{
  "targets": [
    {
      "target_name": "sasa_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/attention_stem.cc",
        "native/src/batch_norm.cc",
        "native/src/block_attention.cc",
        "native/src/conv.cc",
        "native/src/eltwise.cc",
        "native/src/focal_loss.cc",
        "native/src/layout.cc",
        "native/src/local_attention.cc",
        "native/src/matmul.cc",
        "native/src/pool.cc",
        "native/src/reduce.cc",
        "native/src/sgd_update.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-O2"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
