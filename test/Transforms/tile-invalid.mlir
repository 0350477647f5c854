// A malformed `tiles` or `chip` option of loom-tile is an error that names
// the offending text and the expected form.
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-tile{tiles=attention:0x8}))' -verify-diagnostics
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-tile{chip=sm_70}))' -verify-diagnostics

// expected-error-re @below {{loom-tile: {{malformed tile 'attention:0x8' \(expected attention:QxKV with positive sizes\)|unknown chip 'sm_70' \(expected cpu, or sm_NN or sm_NNa with NN >= 80, e.g. sm_90a or sm_80\)}}}}
func.func @f(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = loom.attention %q, %q, %q : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}
