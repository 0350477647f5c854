// Timing: the four GEMM launches of the transformers Llama layer
// (llama_layer.mlir: S 2048, hidden 2048, GQA 16/4 of 128, SwiGLU 5632,
// bf16), each on its own, so that each is compared with cuBLAS on the
// same shape in one run (gpu_check.py, "Llama GEMMs").

// QKV: three products of one x, one launch of siblings (N 2048 + 512 + 512).
func.func @t_llama_qkv(%x: tensor<2048x2048xbf16>, %wq: tensor<2048x2048xbf16>, %wk: tensor<512x2048xbf16>, %wv: tensor<512x2048xbf16>) -> (tensor<2048x2048xbf16>, tensor<2048x512xbf16>, tensor<2048x512xbf16>) {
  %q = loom.linear %x, %wq : (tensor<2048x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16>
  %k = loom.linear %x, %wk : (tensor<2048x2048xbf16>, tensor<512x2048xbf16>) -> tensor<2048x512xbf16>
  %v = loom.linear %x, %wv : (tensor<2048x2048xbf16>, tensor<512x2048xbf16>) -> tensor<2048x512xbf16>
  return %q, %k, %v : tensor<2048x2048xbf16>, tensor<2048x512xbf16>, tensor<2048x512xbf16>
}

// The output projection with the residual add: 2048^3.
func.func @t_llama_o_proj(%a: tensor<2048x2048xbf16>, %wo: tensor<2048x2048xbf16>, %x: tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16> {
  %y = loom.linear %a, %wo : (tensor<2048x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16>
  %r = arith.addf %x, %y : tensor<2048x2048xbf16>
  return %r : tensor<2048x2048xbf16>
}

// Gate and up with SiLU and the product: one launch of a gated pair.
func.func @t_llama_gate_up(%h: tensor<2048x2048xbf16>, %wg: tensor<5632x2048xbf16>, %wu: tensor<5632x2048xbf16>) -> tensor<2048x5632xbf16> {
  %g = loom.linear %h, %wg : (tensor<2048x2048xbf16>, tensor<5632x2048xbf16>) -> tensor<2048x5632xbf16>
  %u = loom.linear %h, %wu : (tensor<2048x2048xbf16>, tensor<5632x2048xbf16>) -> tensor<2048x5632xbf16>
  %a = loom.silu %g : (tensor<2048x5632xbf16>) -> tensor<2048x5632xbf16>
  %p = arith.mulf %a, %u : tensor<2048x5632xbf16>
  return %p : tensor<2048x5632xbf16>
}

// The down projection with the residual add: K 5632.
func.func @t_llama_down(%p: tensor<2048x5632xbf16>, %wd: tensor<2048x5632xbf16>, %x: tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16> {
  %y = loom.linear %p, %wd : (tensor<2048x5632xbf16>, tensor<2048x5632xbf16>) -> tensor<2048x2048xbf16>
  %r = arith.addf %x, %y : tensor<2048x2048xbf16>
  return %r : tensor<2048x2048xbf16>
}
