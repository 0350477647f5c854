// Every verifier error of the loom dialect, one case each.
// RUN: loom-opt %s -split-input-file -verify-diagnostics

func.func @c0(%q: tensor<8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'q' must have rank 4 ([B, Hq, Sq, D]), found rank 3}}
  %0 = loom.attention %q, %k, %v  : (tensor<8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c1(%q: tensor<1x8x16x64xbf16>, %k: tensor<16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'k' must have rank 4 ([B, Hkv, Skv, D]), found rank 2}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c2(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x1x2x16x32xbf16>) {
  // expected-error @+1 {{'v' must have rank 4 ([B, Hkv, Skv, Dv]), found rank 5}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c3(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{result must have rank 4 ([B, Hq, Sq, Dv]), found rank 3}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<8x16x32xbf16>
  return
}

// -----

func.func @c4(%q: tensor<1x8x16x64xi8>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'q' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xi8>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c5(%q: tensor<1x8x16x64xf64>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'q' must have an f32, f16 or bf16 element type, found f64}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xf64>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c6(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'k' element type f16 must match 'q' element type bf16}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c7(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{'v' element type f32 must match 'q' element type bf16}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xf32>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c8(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{result element type f32 must match 'q' element type bf16}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xf32>
  return
}

// -----

func.func @c9(%q: tensor<1x8x16x64xbf16>, %k: tensor<2x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'k' dimension 0 (B) must equal 'q' dimension 0: found 2 and 1}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<2x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c10(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<3x2x16x32xbf16>) {
  // expected-error @+1 {{'v' dimension 0 (B) must equal 'q' dimension 0: found 3 and 1}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<3x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c11(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{result dimension 0 (B) must equal 'q' dimension 0: found 2 and 1}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<2x8x16x32xbf16>
  return
}

// -----

func.func @c12(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x4x16x32xbf16>) {
  // expected-error @+1 {{'v' dimension 1 (Hkv) must equal 'k' dimension 1: found 4 and 2}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x4x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c13(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{result dimension 1 (Hq) must equal 'q' dimension 1: found 4 and 8}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x4x16x32xbf16>
  return
}

// -----

func.func @c14(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x17x32xbf16>) {
  // expected-error @+1 {{'v' dimension 2 (Skv) must equal 'k' dimension 2: found 17 and 16}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x17x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c15(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{result dimension 2 (Sq) must equal 'q' dimension 2: found 15 and 16}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x15x32xbf16>
  return
}

// -----

func.func @c16(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x32xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'k' dimension 3 (D) must equal 'q' dimension 3: found 32 and 64}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c17(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{result dimension 3 (Dv) must equal 'v' dimension 3: found 64 and 32}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x64xbf16>
  return
}

// -----

func.func @c18(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x3x16x64xbf16>, %v: tensor<1x3x16x32xbf16>) {
  // expected-error @+1 {{query heads (Hq = 8) must be a multiple of key/value heads (Hkv = 3)}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x3x16x64xbf16>, tensor<1x3x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c19(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x0x16x64xbf16>, %v: tensor<1x0x16x32xbf16>) {
  // expected-error @+1 {{'k' dimension 1 (Hkv) must be positive, found 0}}
  %0 = loom.attention %q, %k, %v  : (tensor<1x8x16x64xbf16>, tensor<1x0x16x64xbf16>, tensor<1x0x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c20(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{attribute 'scale' must be finite, found inf}}
  %0 = loom.attention %q, %k, %v {scale = 0x7F800000 : f32} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c21(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{attribute 'softcap' must be positive, found -1}}
  %0 = loom.attention %q, %k, %v {softcap = -1.0 : f32} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c22(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{attribute 'softcap' must be finite, found nan}}
  %0 = loom.attention %q, %k, %v {softcap = 0x7FC00000 : f32} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c23(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{attribute 'window' must be positive, found 0}}
  %0 = loom.attention %q, %k, %v {causal, window = 0 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c24(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{attribute 'window' requires 'causal'}}
  %0 = loom.attention %q, %k, %v {window = 4 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c25(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{has unknown attribute 'casual'; known attributes: causal, scale, sink, softcap, window}}
  %0 = loom.attention %q, %k, %v {casual} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c26(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %0 = loom.attention %q, %k, %v {scale = 0.125 : f64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c27(%q: tensor<*xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of any type values, but got 'tensor<*xbf16>'}}
  %0 = loom.attention %q, %k, %v  : (tensor<*xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c28(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<8x1x1xi1>) {
  // expected-error @+1 {{'layout' must have rank 4 ([Lb, Lh, NQB, NKB]), found rank 3}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c29(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi8>) {
  // expected-error @+1 {{'layout' must have element type i1 (a block mask), found i8}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi8>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c30(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<2x8x1x1xi1>) {
  // expected-error @+1 {{'layout' dimension 0 must be 1 or B (1), found 2}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<2x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c31(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x2x1x1xi1>) {
  // expected-error @+1 {{'layout' dimension 1 must be 1 or Hq (8), found 2}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x2x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c32(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{'layout' dimension 2 (NQB = ceil(Sq / block_q)) must be 2, found 1}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 10 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c33(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{'layout' dimension 3 (NKB = ceil(Skv / block_k)) must be 3, found 1}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 7 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c34(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{attribute 'block_q' must be positive, found 0}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 0 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c35(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{attribute 'block_k' must be positive, found -16}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = -16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c36(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{requires attribute 'block_k'}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c37(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{has unknown attribute 'windows'; known attributes: block_k, block_q, causal, scale, sink, softcap, window}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal, windows = 4 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c38(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x3x16x64xbf16>, %v: tensor<1x3x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{query heads (Hq = 8) must be a multiple of key/value heads (Hkv = 3)}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x3x16x64xbf16>, tensor<1x3x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c39(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x8x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{'v' dimension 2 (Skv) must equal 'k' dimension 2: found 8 and 16}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x8x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c40(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x8x1x1xi1>) {
  // expected-error @+1 {{attribute 'softcap' must be positive, found 0}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, softcap = 0.0 : f32} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x8x1x1xi1>) -> tensor<1x8x16x32xbf16>
  return
}

// -----

func.func @c41(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>) {
  // expected-error @+1 {{attribute 'topk' must be non-negative, found -1}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = -1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c42(%q: tensor<2x8x16x64xbf16>, %k: tensor<2x2x16x64xbf16>) {
  // expected-error @+1 {{result dimension 0 (B) must equal 'q' dimension 0: found 1 and 2}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<2x8x16x64xbf16>, tensor<2x2x16x64xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c43(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>) {
  // expected-error @+1 {{result dimension 1 (Hq) must equal 'q' dimension 1: found 1 and 8}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x1x1x1xi1>
  return
}

// -----

func.func @c44(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>) {
  // expected-error @+1 {{result must have element type i1 (a block mask), found f32}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x8x1x1xf32>
  return
}

// -----

func.func @c45(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>) {
  // expected-error @+1 {{result dimension 2 (NQB = ceil(Sq / block_q)) must be 1, found 4}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x8x4x1xi1>
  return
}

// -----

func.func @c46(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>) {
  // expected-error @+1 {{result must have rank 4 ([Lb, Lh, NQB, NKB]), found rank 2}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x1xi1>
  return
}

// -----

func.func @c47(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'k' dimension 3 (D) must equal 'q' dimension 3: found 32 and 64}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x32xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c48(%q: tensor<1x8x16x64xbf16>, %k: tensor<2x2x16x64xbf16>) {
  // expected-error @+1 {{'k' dimension 0 (B) must equal 'q' dimension 0: found 2 and 1}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<2x2x16x64xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c49(%q: tensor<1x8x16x64xbf16>, %k: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'k' must have rank 4 ([B, Hkv, Skv, D]), found rank 3}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c50(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xf32>) {
  // expected-error @+1 {{'k' element type f32 must match 'q' element type bf16}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xf32>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c51(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x3x16x64xbf16>) {
  // expected-error @+1 {{query heads (Hq = 8) must be a multiple of key/value heads (Hkv = 3)}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 1 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x3x16x64xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c52(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>) {
  // expected-error @+1 {{requires attribute 'topk'}}
  %0 = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x8x1x1xi1>
  return
}

// -----

func.func @c53(%q: tensor<2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'q' must have rank 4 ([B, H, S, Dk]), found rank 3}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c54(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<2x16x4xf32>) {
  // expected-error @+1 {{'v' must have rank 4 ([B, H, S, Dv]), found rank 3}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c55(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{result must have rank 4 ([B, H, S, Dv]), found rank 1}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @c56(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xbf16>) {
  // expected-error @+1 {{'v' element type bf16 must match 'q' element type f32}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xbf16>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c57(%q: tensor<1x2x16x8xf32>, %k: tensor<1x1x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'k' dimension 1 (H) must equal 'q' dimension 1: found 1 and 2}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c58(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x15x4xf32>) {
  // expected-error @+1 {{'v' dimension 2 (S) must equal 'q' dimension 2: found 15 and 16}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x15x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c59(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{result dimension 0 (B) must equal 'q' dimension 0: found 2 and 1}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<2x2x16x4xf32>
  return
}

// -----

func.func @c60(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'k' dimension 3 (Dk) must equal 'q' dimension 3: found 4 and 8}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c61(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{result dimension 3 (Dv) must equal 'v' dimension 3: found 8 and 4}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x8xf32>
  return
}

// -----

func.func @c62(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{attribute 'feature_map' must be one of "identity", "relu", "elu_plus_one", found "softmax"}}
  %0 = loom.linear_attention %q, %k, %v {feature_map = "softmax"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c63(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{attribute 'decay' requires 'causal'}}
  %0 = loom.linear_attention %q, %k, %v {decay = array<f32: 0.5, 0.5>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c64(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{attribute 'decay' must hold one value per head (2), found 3}}
  %0 = loom.linear_attention %q, %k, %v {causal, decay = array<f32: 0.5, 0.5, 0.5>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c65(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{attribute 'decay' must be finite and non-negative, found -5.000000e-01 for head 1}}
  %0 = loom.linear_attention %q, %k, %v {causal, decay = array<f32: 0.5, -0.5>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c66(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{attribute 'scale' must be finite, found -inf}}
  %0 = loom.linear_attention %q, %k, %v {scale = 0xFF800000 : f32} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c67(%q: tensor<1x2x16x8xi32>, %k: tensor<1x2x16x8xi32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'q' must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.linear_attention %q, %k, %v  : (tensor<1x2x16x8xi32>, tensor<1x2x16x8xi32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c68(%x: tensor<8x4xf32>) {
  // expected-error @+1 {{'x' must have rank 3 ([B, S, C]) or 4 ([B, H, W, C]), found rank 2}}
  %0 = loom.pool_mixer %x  : (tensor<8x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @c69(%x: tensor<1x8x8x4xi8>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.pool_mixer %x  : (tensor<1x8x8x4xi8>) -> tensor<1x8x8x4xi8>
  return
}

// -----

func.func @c70(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{result dimension 2 (same shape) must equal 'x' dimension 2: found 7 and 8}}
  %0 = loom.pool_mixer %x  : (tensor<1x8x8x4xf32>) -> tensor<1x8x7x4xf32>
  return
}

// -----

func.func @c71(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{result must have the rank of 'x' (4), found rank 3}}
  %0 = loom.pool_mixer %x  : (tensor<1x8x8x4xf32>) -> tensor<1x8x8xf32>
  return
}

// -----

func.func @c72(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{result element type f16 must match 'x' element type f32}}
  %0 = loom.pool_mixer %x  : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf16>
  return
}

// -----

func.func @c73(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{attribute 'kernel' must be odd, found 4}}
  %0 = loom.pool_mixer %x {kernel = 4 : i64} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @c74(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{attribute 'kernel' must be positive, found -1}}
  %0 = loom.pool_mixer %x {kernel = -1 : i64} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @c75(%x: tensor<1x2x2x2x8xf32>, %w: tensor<3x8xf32>) {
  // expected-error @+1 {{'x' must have rank 3 ([B, S, C]) or 4 ([B, H, W, C]), found rank 5}}
  %0 = loom.dwconv %x, %w  : (tensor<1x2x2x2x8xf32>, tensor<3x8xf32>) -> tensor<1x2x2x2x8xf32>
  return
}

// -----

func.func @c76(%x: tensor<1x16x8xf32>, %w: tensor<3x3x8xf32>) {
  // expected-error @+1 {{'w' must have rank 2 ([K, C] for a 1-D 'x'), found rank 3}}
  %0 = loom.dwconv %x, %w  : (tensor<1x16x8xf32>, tensor<3x3x8xf32>) -> tensor<1x16x8xf32>
  return
}

// -----

func.func @c77(%x: tensor<1x4x4x8xf32>, %w: tensor<3x8xf32>) {
  // expected-error @+1 {{'w' must have rank 3 ([Kh, Kw, C] for a 2-D 'x'), found rank 2}}
  %0 = loom.dwconv %x, %w  : (tensor<1x4x4x8xf32>, tensor<3x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @c78(%x: tensor<1x16x8xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'w' dimension 1 (C) must equal 'x' dimension 2: found 4 and 8}}
  %0 = loom.dwconv %x, %w  : (tensor<1x16x8xf32>, tensor<3x4xf32>) -> tensor<1x16x8xf32>
  return
}

// -----

func.func @c79(%x: tensor<1x16x8xf32>, %w: tensor<3x8xbf16>) {
  // expected-error @+1 {{'w' element type bf16 must match 'x' element type f32}}
  %0 = loom.dwconv %x, %w  : (tensor<1x16x8xf32>, tensor<3x8xbf16>) -> tensor<1x16x8xf32>
  return
}

// -----

func.func @c80(%x: tensor<1x16x8xf32>, %w: tensor<3x8xf32>) {
  // expected-error @+1 {{result dimension 1 (same shape) must equal 'x' dimension 1: found 15 and 16}}
  %0 = loom.dwconv %x, %w  : (tensor<1x16x8xf32>, tensor<3x8xf32>) -> tensor<1x15x8xf32>
  return
}

// -----

func.func @c81(%x: tensor<1x4x4x8xf32>, %w: tensor<3x3x8xf32>) {
  // expected-error @+1 {{attribute 'causal' applies to 1-D convolutions only, found a 2-D 'x'}}
  %0 = loom.dwconv %x, %w {causal} : (tensor<1x4x4x8xf32>, tensor<3x3x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @c82(%x: tensor<1x16x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'w' dimension 0 (kernel size) must be odd for a centred convolution, found 4}}
  %0 = loom.dwconv %x, %w  : (tensor<1x16x8xf32>, tensor<4x8xf32>) -> tensor<1x16x8xf32>
  return
}

// -----

func.func @c83(%x: tensor<1x4x4x8xf32>, %w: tensor<3x2x8xf32>) {
  // expected-error @+1 {{'w' dimension 1 (kernel size) must be odd for a centred convolution, found 2}}
  %0 = loom.dwconv %x, %w  : (tensor<1x4x4x8xf32>, tensor<3x2x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @c84(%x: tensor<1x16x8xf32>, %w: tensor<0x8xf32>) {
  // expected-error @+1 {{'w' dimension 0 (kernel size) must be positive, found 0}}
  %0 = loom.dwconv %x, %w {causal} : (tensor<1x16x8xf32>, tensor<0x8xf32>) -> tensor<1x16x8xf32>
  return
}

// -----

func.func @c85(%x: tensor<f32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'x' must have rank at least 1 ([..., K]), found rank 0}}
  %0 = loom.linear %x, %w : (tensor<f32>, tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @c86(%x: tensor<2x3x8xf32>, %w: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'w' must have rank 2 ([N, K]), found rank 3}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<1x4x8xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @c87(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf16>) {
  // expected-error @+1 {{'w' element type f16 must match 'x' element type f32}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<4x8xf16>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @c88(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result element type bf16 must match 'x' element type f32}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<4x8xf32>) -> tensor<2x3x4xbf16>
  return
}

// -----

func.func @c89(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result must have the rank of 'x' (3), found rank 2}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<4x8xf32>) -> tensor<6x4xf32>
  return
}

// -----

func.func @c90(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result dimension 1 (batch) must equal 'x' dimension 1: found 5 and 3}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<4x8xf32>) -> tensor<2x5x4xf32>
  return
}

// -----

func.func @c91(%x: tensor<2x3x8xf32>, %w: tensor<4x7xf32>) {
  // expected-error @+1 {{'w' dimension 1 (K) must equal 'x' dimension 2: found 7 and 8}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<4x7xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @c92(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result dimension 2 (N) must equal 'w' dimension 0: found 5 and 4}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xf32>, tensor<4x8xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

func.func @c93(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{'bias' must have rank 1 ([N]), found rank 2}}
  %0 = loom.linear %x, %w, %b : (tensor<2x3x8xf32>, tensor<4x8xf32>, tensor<1x4xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @c94(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'bias' dimension 0 (N) must equal 'w' dimension 0: found 5 and 4}}
  %0 = loom.linear %x, %w, %b : (tensor<2x3x8xf32>, tensor<4x8xf32>, tensor<5xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @c95(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xbf16>) {
  // expected-error @+1 {{'bias' must have element type f32 (the element type of 'x'), found bf16}}
  %0 = loom.linear %x, %w, %b : (tensor<2x3x8xf32>, tensor<4x8xf32>, tensor<4xbf16>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @c96(%x: tensor<2x3x8xi8>, %w: tensor<4x8xi8>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.linear %x, %w : (tensor<2x3x8xi8>, tensor<4x8xi8>) -> tensor<2x3x4xi8>
  return
}

// -----

func.func @c97(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{operand group starting at #2 requires 0 or 1 element, but found 2}}
  %0 = loom.linear %x, %w, %x, %x : (tensor<2x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @c98(%x: tensor<1x4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'x' must have rank 2 ([M, K]), found rank 3}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<1x4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c99(%x: tensor<4x64xbf16>, %w: tensor<64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'w' must have rank 2 ([N, K]), found rank 1}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<64xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c100(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{result must have rank 2 ([M, N]), found rank 1}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<8xbf16>
  return
}

// -----

func.func @c101(%x: tensor<4x64xbf16>, %w: tensor<8x64xbf16>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'w' must have element type i8 or i4, found bf16}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xbf16>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c102(%x: tensor<4x63xbf16>, %w: tensor<8x63xi4>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'w' holds i4 values packed two per byte along its innermost dimension, which must be even; found 63}}
  %0 = loom.qlinear %x, %w, %s  : (tensor<4x63xbf16>, tensor<8x63xi4>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c103(%x: tensor<4x64xbf16>, %w: tensor<8x32xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'w' dimension 1 (K) must equal 'x' dimension 1: found 32 and 64}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x32xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c104(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{result dimension 0 (M) must equal 'x' dimension 0: found 5 and 4}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<5x8xbf16>
  return
}

// -----

func.func @c105(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{result dimension 1 (N) must equal 'w' dimension 0: found 9 and 8}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x9xbf16>
  return
}

// -----

func.func @c106(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{attribute 'group_size' must be non-negative, found -32}}
  %0 = loom.qlinear %x, %w, %s {group_size = -32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c107(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{attribute 'group_size' (48) must divide K (64)}}
  %0 = loom.qlinear %x, %w, %s {group_size = 48 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c108(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'w_scale' must have rank 1 ([N] for per-channel scales), found rank 2}}
  %0 = loom.qlinear %x, %w, %s  : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c109(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'w_scale' must have rank 2 ([N, K / group_size] for group-wise scales), found rank 1}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c110(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x4xf32>) {
  // expected-error @+1 {{'w_scale' dimension 1 (K / group_size) must be 2, found 4}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x4xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c111(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<7x2xf32>) {
  // expected-error @+1 {{'w_scale' dimension 0 (N) must equal 'w' dimension 0: found 7 and 8}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<7x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c112(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xi32>) {
  // expected-error @+1 {{'w_scale' must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xi32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c113(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>, %b: tensor<8xi8>) {
  // expected-error @+1 {{'bias' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.qlinear %x, %w, %s, %b {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>, tensor<8xi8>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c114(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>, %b: tensor<4xbf16>) {
  // expected-error @+1 {{'bias' dimension 0 (N) must equal 'w' dimension 0: found 4 and 8}}
  %0 = loom.qlinear %x, %w, %s, %b {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>, tensor<4xbf16>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c115(%x: tensor<4x64xbf16>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{result must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x8xi32>
  return
}

// -----

func.func @c116(%x: tensor<4x64xi8>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<4x64xi8>, tensor<8x64xi4>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c117(%x: tensor<64xbf16>) {
  // expected-error @+1 {{'x' must have rank 2 ([M, K]), found rank 1}}
  %0, %1 = loom.quantize %x : (tensor<64xbf16>) -> (tensor<4x64xi8>, tensor<4xf32>)
  return
}

// -----

func.func @c118(%x: tensor<4x64xi8>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i8}}
  %0, %1 = loom.quantize %x : (tensor<4x64xi8>) -> (tensor<4x64xi8>, tensor<4xf32>)
  return
}

// -----

func.func @c119(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xq' must have element type i8 or f8E4M3FN, found i4}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<4x64xi4>, tensor<4xf32>)
  return
}

// -----

func.func @c120(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xq' must have element type i8 or f8E4M3FN, found f8E5M2}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<4x64xf8E5M2>, tensor<4xf32>)
  return
}

// -----

func.func @c121(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xq' must have rank 2 ([M, K]), found rank 3}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<1x4x64xi8>, tensor<4xf32>)
  return
}

// -----

func.func @c122(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xs' must have element type f32 (per-row scales), found bf16}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<4x64xi8>, tensor<4xbf16>)
  return
}

// -----

func.func @c123(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xs' must have rank 1 ([M]), found rank 2}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<4x64xi8>, tensor<4x1xf32>)
  return
}

// -----

func.func @c124(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xq' dimension 1 (K) must equal 'x' dimension 1: found 32 and 64}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<4x32xi8>, tensor<4xf32>)
  return
}

// -----

func.func @c125(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xs' dimension 0 (M) must equal 'x' dimension 0: found 3 and 4}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<4x64xi8>, tensor<3xf32>)
  return
}

// -----

func.func @c126(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'xq' dimension 0 (M) must equal 'x' dimension 0: found 2 and 4}}
  %0, %1 = loom.quantize %x : (tensor<4x64xbf16>) -> (tensor<2x64xi8>, tensor<4xf32>)
  return
}

// -----

func.func @c127(%xq: tensor<4x64xbf16>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'xq' must have element type i8 or f8E4M3FN, found bf16}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xbf16>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c128(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xf8E4M3FN>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'w' element type f8E4M3FN must match 'xq' element type i8}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xf8E4M3FN>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c129(%xq: tensor<4x64xi8>, %xs: tensor<4xf16>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'xs' must have element type f32 (per-row scales), found f16}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf16>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c130(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xbf16>) {
  // expected-error @+1 {{'w_scale' must have element type f32 (per-channel scales), found bf16}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xbf16>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c131(%xq: tensor<64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'xq' must have rank 2 ([M, K]), found rank 1}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c132(%xq: tensor<4x64xi8>, %xs: tensor<4x1xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'xs' must have rank 1 ([M]), found rank 2}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4x1xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c133(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<1x8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'w' must have rank 2 ([N, K]), found rank 3}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<1x8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c134(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{'w_scale' must have rank 1 ([N]), found rank 2}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c135(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{result must have rank 2 ([M, N]), found rank 3}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<1x4x8xbf16>
  return
}

// -----

func.func @c136(%xq: tensor<4x64xi8>, %xs: tensor<5xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'xs' dimension 0 (M) must equal 'xq' dimension 0: found 5 and 4}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<5xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c137(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x32xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'w' dimension 1 (K) must equal 'xq' dimension 1: found 32 and 64}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x32xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c138(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<6xf32>) {
  // expected-error @+1 {{'w_scale' dimension 0 (N) must equal 'w' dimension 0: found 6 and 8}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<6xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c139(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{result dimension 0 (M) must equal 'xq' dimension 0: found 3 and 4}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<3x8xbf16>
  return
}

// -----

func.func @c140(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{result dimension 1 (N) must equal 'w' dimension 0: found 9 and 8}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x9xbf16>
  return
}

// -----

func.func @c141(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{result must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.qmatmul %xq, %xs, %w, %s : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xi32>
  return
}

// -----

func.func @c142(%xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>, %b: tensor<7xbf16>) {
  // expected-error @+1 {{'bias' dimension 0 (N) must equal 'w' dimension 0: found 7 and 8}}
  %0 = loom.qmatmul %xq, %xs, %w, %s, %b : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>, tensor<7xbf16>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c143(%x: tensor<bf16>, %g: tensor<16xbf16>) {
  // expected-error @+1 {{'x' must have rank at least 1 ([..., C]), found rank 0}}
  %0 = loom.rms_norm %x, %g  : (tensor<bf16>, tensor<16xbf16>) -> tensor<bf16>
  return
}

// -----

func.func @c144(%x: tensor<4x16xi32>, %g: tensor<16xi32>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.rms_norm %x, %g  : (tensor<4x16xi32>, tensor<16xi32>) -> tensor<4x16xi32>
  return
}

// -----

func.func @c145(%x: tensor<4x16xbf16>, %g: tensor<1x16xbf16>) {
  // expected-error @+1 {{'g' must have rank 1 ([C]), found rank 2}}
  %0 = loom.rms_norm %x, %g  : (tensor<4x16xbf16>, tensor<1x16xbf16>) -> tensor<4x16xbf16>
  return
}

// -----

func.func @c146(%x: tensor<4x16xbf16>, %g: tensor<16xf32>) {
  // expected-error @+1 {{'g' element type f32 must match 'x' element type bf16}}
  %0 = loom.rms_norm %x, %g  : (tensor<4x16xbf16>, tensor<16xf32>) -> tensor<4x16xbf16>
  return
}

// -----

func.func @c147(%x: tensor<4x16xbf16>, %g: tensor<8xbf16>) {
  // expected-error @+1 {{'g' dimension 0 (C) must equal 'x' dimension 1: found 8 and 16}}
  %0 = loom.rms_norm %x, %g  : (tensor<4x16xbf16>, tensor<8xbf16>) -> tensor<4x16xbf16>
  return
}

// -----

func.func @c148(%x: tensor<4x16xbf16>, %g: tensor<16xbf16>) {
  // expected-error @+1 {{result dimension 0 (same shape) must equal 'x' dimension 0: found 5 and 4}}
  %0 = loom.rms_norm %x, %g  : (tensor<4x16xbf16>, tensor<16xbf16>) -> tensor<5x16xbf16>
  return
}

// -----

func.func @c149(%x: tensor<4x16xbf16>, %g: tensor<16xbf16>) {
  // expected-error @+1 {{attribute 'epsilon' must be finite and non-negative, found -9.99999997E-7}}
  %0 = loom.rms_norm %x, %g {epsilon = -1.0e-6 : f32} : (tensor<4x16xbf16>, tensor<16xbf16>) -> tensor<4x16xbf16>
  return
}

// -----

func.func @c150(%x: tensor<4x16xf32>, %g: tensor<16xf32>, %b: tensor<15xf32>) {
  // expected-error @+1 {{'b' dimension 0 (C) must equal 'x' dimension 1: found 15 and 16}}
  %0 = loom.layer_norm %x, %g, %b  : (tensor<4x16xf32>, tensor<16xf32>, tensor<15xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @c151(%x: tensor<4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf16>) {
  // expected-error @+1 {{'b' element type f16 must match 'x' element type f32}}
  %0 = loom.layer_norm %x, %g, %b  : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf16>) -> tensor<4x16xf32>
  return
}

// -----

func.func @c152(%x: tensor<4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{attribute 'epsilon' must be finite and non-negative, found nan}}
  %0 = loom.layer_norm %x, %g, %b {epsilon = 0x7FC00000 : f32} : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @c153(%x: tensor<2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'x' must have rank 4 ([B, H, S, D]), found rank 3}}
  %0 = loom.rope %x, %c, %s  : (tensor<2x8x16xbf16>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<2x8x16xbf16>
  return
}

// -----

func.func @c154(%x: tensor<1x2x8x15xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'x' dimension 3 (D) must be even, found 15}}
  %0 = loom.rope %x, %c, %s  : (tensor<1x2x8x15xbf16>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x15xbf16>
  return
}

// -----

func.func @c155(%x: tensor<1x2x8x16xbf16>, %c: tensor<8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'cos' must have rank 2 ([S, D/2]), found rank 1}}
  %0 = loom.rope %x, %c, %s  : (tensor<1x2x8x16xbf16>, tensor<8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xbf16>
  return
}

// -----

func.func @c156(%x: tensor<1x2x8x16xbf16>, %c: tensor<4x8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'cos' dimension 0 (S) must equal 'x' dimension 2: found 4 and 8}}
  %0 = loom.rope %x, %c, %s  : (tensor<1x2x8x16xbf16>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xbf16>
  return
}

// -----

func.func @c157(%x: tensor<1x2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x16xf32>) {
  // expected-error @+1 {{'sin' dimension 1 (D/2) must be 8, found 16}}
  %0 = loom.rope %x, %c, %s  : (tensor<1x2x8x16xbf16>, tensor<8x8xf32>, tensor<8x16xf32>) -> tensor<1x2x8x16xbf16>
  return
}

// -----

func.func @c158(%x: tensor<1x2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xi32>) {
  // expected-error @+1 {{'sin' must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.rope %x, %c, %s  : (tensor<1x2x8x16xbf16>, tensor<8x8xf32>, tensor<8x8xi32>) -> tensor<1x2x8x16xbf16>
  return
}

// -----

func.func @c159(%x: tensor<1x2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{attribute 'style' must be one of "half", "interleaved", found "neox"}}
  %0 = loom.rope %x, %c, %s {style = "neox"} : (tensor<1x2x8x16xbf16>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xbf16>
  return
}

// -----

func.func @c160(%x: tensor<1x2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{result element type f32 must match 'x' element type bf16}}
  %0 = loom.rope %x, %c, %s  : (tensor<1x2x8x16xbf16>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  return
}

// -----

func.func @c161(%x: tensor<1x2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{attribute 'style' failed to satisfy constraint: string attribute}}
  %0 = loom.rope %x, %c, %s {style = 1 : i64} : (tensor<1x2x8x16xbf16>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xbf16>
  return
}

// -----

func.func @c162(%x: tensor<4x8xbf16>) {
  // expected-error @+1 {{attribute 'approximate' must be one of "none", "tanh", found "erf"}}
  %0 = loom.gelu %x {approximate = "erf"} : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @c163(%x: tensor<4x8xi8>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.gelu %x  : (tensor<4x8xi8>) -> tensor<4x8xi8>
  return
}

// -----

func.func @c164(%x: tensor<4x8xbf16>) {
  // expected-error @+1 {{result dimension 1 (same shape) must equal 'x' dimension 1: found 9 and 8}}
  %0 = loom.gelu %x  : (tensor<4x8xbf16>) -> tensor<4x9xbf16>
  return
}

// -----

func.func @c165(%x: tensor<4x8xi1>) {
  // expected-error @+1 {{'x' must have an f32, f16 or bf16 element type, found i1}}
  %0 = loom.silu %x  : (tensor<4x8xi1>) -> tensor<4x8xi1>
  return
}

// -----

func.func @c166(%x: tensor<4x8xbf16>) {
  // expected-error @+1 {{result must have the rank of 'x' (2), found rank 1}}
  %0 = loom.silu %x  : (tensor<4x8xbf16>) -> tensor<32xbf16>
  return
}

// -----

func.func @c167(%x: tensor<4x8xbf16>) {
  // expected-error @+1 {{has unknown attribute 'approximate'; it takes no attributes}}
  %0 = loom.silu %x {approximate = "tanh"} : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
  return
}

// -----

// loom.kernel and loom.yield (fusion groups).

func.func @k0(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'loom.kernel' op needs a non-empty label}}
  %0 = loom.kernel "" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    loom.yield %s : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k1(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'loom.kernel' op has 1 inputs but its body has 2 block arguments}}
  %0 = loom.kernel "silu" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>, %b: tensor<8xf32>):
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    loom.yield %s : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k2(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'loom.kernel' op input #0 has type 'tensor<8xf32>' but body argument #0 has type 'tensor<8xf16>'}}
  %0 = loom.kernel "silu" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf16>):
    %s = loom.silu %a : (tensor<8xf16>) -> tensor<8xf16>
    %t = arith.extf %s : tensor<8xf16> to tensor<8xf32>
    loom.yield %t : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k3(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'loom.kernel' op body must end with loom.yield}}
  %0 = loom.kernel "silu" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    llvm.unreachable
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k4(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'loom.kernel' op has 1 results but its body yields 2 values}}
  %0 = loom.kernel "silu" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    loom.yield %s, %s : tensor<8xf32>, tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k5(%x: tensor<8xf32>) -> tensor<8xf16> {
  // expected-error @+1 {{'loom.kernel' op result #0 has type 'tensor<8xf16>' but the body yields 'tensor<8xf32>'}}
  %0 = loom.kernel "silu" (%x) : (tensor<8xf32>) -> tensor<8xf16> {
  ^bb0(%a: tensor<8xf32>):
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    loom.yield %s : tensor<8xf32>
  }
  return %0 : tensor<8xf16>
}

// -----

func.func @k6(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'loom.kernel' op body has no ops to run}}
  %0 = loom.kernel "nothing" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    loom.yield %a : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k7(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = loom.kernel "outer" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    // expected-error @+1 {{'loom.kernel' op is nested in another loom.kernel; a kernel is one fusion group}}
    %s = loom.kernel "inner" (%a) : (tensor<8xf32>) -> tensor<8xf32> {
    ^bb0(%b: tensor<8xf32>):
      %t = loom.silu %b : (tensor<8xf32>) -> tensor<8xf32>
      loom.yield %t : tensor<8xf32>
    }
    loom.yield %s : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @k8(%x: tensor<8xf32>) {
  // expected-error @+1 {{'loom.yield' op expects parent op 'loom.kernel'}}
  loom.yield %x : tensor<8xf32>
}

// -----

func.func @k9(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c = arith.constant 1.0 : f32
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = loom.kernel "capture" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    // expected-error @+1 {{using value defined outside the region}}
    %s = linalg.fill ins(%c : f32) outs(%a : tensor<8xf32>) -> tensor<8xf32>
    loom.yield %s : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

// expected-error @below {{unknown chip 'sm_75' (expected cpu, or sm_NN or sm_NNa with NN >= 80, e.g. sm_90a or sm_80)}}
module attributes {loom.target = #loom.target<chip = "sm_75">} {}

// -----

// expected-error @below {{tile kind 'rows' given twice in 'rows:64,rows:128'}}
module attributes {loom.target = #loom.target<chip = "sm_90a", tiles = "rows:64,rows:128">} {}

// -----

// The log-sum-exp result of the attention ops.
func.func @lse_rank(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'lse' must have rank 3 ([B, Hq, Sq]), found rank 4}}
  %0:2 = loom.attention %q, %k, %v : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> (tensor<1x8x16x32xbf16>, tensor<1x8x16x1xf32>)
  return
}

// -----

func.func @lse_type(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'lse' must have element type f32 (the log-sum-exp is f32), found bf16}}
  %0:2 = loom.attention %q, %k, %v : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> (tensor<1x8x16x32xbf16>, tensor<1x8x16xbf16>)
  return
}

// -----

func.func @lse_batch(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'lse' dimension 0 (B) must equal 'q' dimension 0: found 2 and 1}}
  %0:2 = loom.attention %q, %k, %v : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> (tensor<1x8x16x32xbf16>, tensor<2x8x16xf32>)
  return
}

// -----

func.func @lse_heads(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @+1 {{'lse' dimension 1 (Hq) must equal 'q' dimension 1: found 2 and 8}}
  %0:2 = loom.attention %q, %k, %v : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>) -> (tensor<1x8x16x32xbf16>, tensor<1x2x16xf32>)
  return
}

// -----

func.func @lse_rows(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x1x1x1xi1>) {
  // expected-error @+1 {{'lse' dimension 2 (Sq) must equal 'q' dimension 2: found 17 and 16}}
  %0:2 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x1x1x1xi1>) -> (tensor<1x8x16x32xbf16>, tensor<1x8x17xf32>)
  return
}

// -----

func.func @lse_sparse_type(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>, %v: tensor<1x2x16x32xbf16>, %l: tensor<1x1x1x1xi1>) {
  // expected-error @+1 {{'lse' must have element type f32 (the log-sum-exp is f32), found f16}}
  %0:2 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x32xbf16>, tensor<1x1x1x1xi1>) -> (tensor<1x8x16x32xbf16>, tensor<1x8x16xf16>)
  return
}

// -----

// merge_attention: one case per verifier error.
func.func @merge_none() {
  // expected-error @+1 {{expects pairs of operands (o_0, lse_0, o_1, lse_1, ...), at least one pair; found 0 operands}}
  %0:2 = loom.merge_attention : () -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_odd(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>) {
  // expected-error @+1 {{expects pairs of operands (o_0, lse_0, o_1, lse_1, ...), at least one pair; found 3 operands}}
  %0:2 = loom.merge_attention %o, %l, %o : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_o_rank(%o: tensor<2x3x4xf32>, %l: tensor<1x2x3xf32>) {
  // expected-error @+1 {{'o_0' must have rank 4 ([B, Hq, Sq, Dv]), found rank 3}}
  %0:2 = loom.merge_attention %o, %l : (tensor<2x3x4xf32>, tensor<1x2x3xf32>) -> (tensor<2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_o_type(%o: tensor<1x2x3x4xf64>, %l: tensor<1x2x3xf32>) {
  // expected-error @+1 {{'o_0' must have an f32, f16 or bf16 element type, found f64}}
  %0:2 = loom.merge_attention %o, %l : (tensor<1x2x3x4xf64>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf64>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_lse_rank(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3x1xf32>) {
  // expected-error @+1 {{'lse_0' must have rank 3 ([B, Hq, Sq]), found rank 4}}
  %0:2 = loom.merge_attention %o, %l : (tensor<1x2x3x4xf32>, tensor<1x2x3x1xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x1xf32>)
  return
}

// -----

func.func @merge_lse_type(%o: tensor<1x2x3x4xbf16>, %l: tensor<1x2x3xbf16>) {
  // expected-error @+1 {{'lse_0' must have element type f32 (the log-sum-exp is f32), found bf16}}
  %0:2 = loom.merge_attention %o, %l : (tensor<1x2x3x4xbf16>, tensor<1x2x3xbf16>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xbf16>)
  return
}

// -----

func.func @merge_lse_rows(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'lse_0' dimension 2 (Sq) must equal 'o_0' dimension 2: found 5 and 3}}
  %0:2 = loom.merge_attention %o, %l : (tensor<1x2x3x4xf32>, tensor<1x2x5xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x5xf32>)
  return
}

// -----

func.func @merge_o_shape(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>, %o1: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{'o_1' dimension 3 (same shape) must equal 'o_0' dimension 3: found 8 and 4}}
  %0:2 = loom.merge_attention %o, %l, %o1, %l : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_o_element(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>, %o1: tensor<1x2x3x4xbf16>) {
  // expected-error @+1 {{'o_1' element type bf16 must match 'o_0' element type f32}}
  %0:2 = loom.merge_attention %o, %l, %o1, %l : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_lse_shape(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>, %l1: tensor<1x2x3x1xf32>) {
  // expected-error @+1 {{'lse_1' must have the rank of 'lse_0' (3), found rank 4}}
  %0:2 = loom.merge_attention %o, %l, %o, %l1 : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x1xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_result(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>) {
  // expected-error @+1 {{result element type f16 must match 'o_0' element type f32}}
  %0:2 = loom.merge_attention %o, %l, %o, %l : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf16>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @merge_lse_result(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>) {
  // expected-error @+1 {{lse result dimension 1 (same shape) must equal 'lse_0' dimension 1: found 3 and 2}}
  %0:2 = loom.merge_attention %o, %l, %o, %l : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x3x3xf32>)
  return
}

// -----

func.func @merge_attr(%o: tensor<1x2x3x4xf32>, %l: tensor<1x2x3xf32>) {
  // expected-error @+1 {{has unknown attribute 'causal'; it takes no attributes}}
  %0:2 = loom.merge_attention %o, %l {causal} : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return
}

// -----

func.func @c168(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{attribute 'rule' must be one of "additive", "delta", found "gated"}}
  %0 = loom.linear_attention %q, %k, %v {causal, rule = "gated"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c169(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %g: tensor<1x2xf32>) {
  // expected-error @+1 {{'gate' must have rank 3 ([B, H, S], per head) or 4 ([B, H, S, Dk], per key dimension), found rank 2}}
  %0 = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c170(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %g: tensor<1x2x16xi32>) {
  // expected-error @+1 {{'gate' must have an f32, f16 or bf16 element type, found i32}}
  %0 = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xi32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c171(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %g: tensor<1x2x15xf32>) {
  // expected-error @+1 {{'gate' dimension 2 (S) must equal 'q' dimension 2: found 15 and 16}}
  %0 = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x15xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c172(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %g: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'gate' dimension 3 (Dk) must equal 'q' dimension 3: found 4 and 8}}
  %0 = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c173(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %g: tensor<1x2x16xf32>) {
  // expected-error @+1 {{attribute 'decay' and a 'gate' operand are exclusive (decay is the constant gate -decay[h])}}
  %0 = loom.linear_attention %q, %k, %v gate(%g) {causal, decay = array<f32: 0.5, 0.5>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c174(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %g: tensor<1x2x16xf32>) {
  // expected-error @+1 {{a 'gate' operand requires 'causal' (a recurrence over tokens)}}
  %0 = loom.linear_attention %q, %k, %v gate(%g) : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c175(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x2x16x1xf32>) {
  // expected-error @+1 {{'beta' must have rank 3 ([B, H, S]), found rank 4 in tensor<1x2x16x1xf32>}}
  %0 = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x1xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c176(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x2x16xi8>) {
  // expected-error @+1 {{'beta' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xi8>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c177(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x3x16xf32>) {
  // expected-error @+1 {{'beta' dimension 1 (H) must equal 'q' dimension 1: found 3 and 2}}
  %0 = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x3x16xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c178(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{rule = "delta" requires a 'beta' operand}}
  %0 = loom.linear_attention %q, %k, %v {causal, rule = "delta"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c179(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x2x16xf32>) {
  // expected-error @+1 {{a 'beta' operand requires rule = "delta" (the additive rule has no write strength)}}
  %0 = loom.linear_attention %q, %k, %v beta(%b) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c180(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x2x16xf32>) {
  // expected-error @+1 {{a 'beta' operand requires 'causal' (a recurrence over tokens)}}
  %0 = loom.linear_attention %q, %k, %v beta(%b) {rule = "delta"} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c181(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'initial_state' must have rank 4 ([B, H, Dk, Dv]), found rank 3 in tensor<2x8x4xf32>}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c182(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<1x2x8x4xbf16>) {
  // expected-error @+1 {{'initial_state' must have element type f32 (a state), found bf16}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xbf16>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c183(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<2x2x8x4xf32>) {
  // expected-error @+1 {{'initial_state' dimension 0 (B) must equal 'q' dimension 0: found 2 and 1}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<2x2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c184(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<1x1x8x4xf32>) {
  // expected-error @+1 {{'initial_state' dimension 1 (H) must equal 'q' dimension 1: found 1 and 2}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c185(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'initial_state' dimension 2 (Dk) must equal 'q' dimension 3: found 4 and 8}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c186(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{'initial_state' dimension 3 (Dv) must equal 'v' dimension 3: found 8 and 4}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c187(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{an 'initial_state' operand requires 'causal' (a recurrence over tokens)}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c188(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'final_state' must have element type f32 (a state), found f16}}
  %0, %1 = loom.linear_attention %q, %k, %v {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf16>)
  return
}

// -----

func.func @c189(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'final_state' dimension 3 (Dv) must equal 'v' dimension 3: found 5 and 4}}
  %0, %1 = loom.linear_attention %q, %k, %v {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x5xf32>)
  return
}

// -----

func.func @c190(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{a 'final_state' result requires 'causal' (a recurrence over tokens)}}
  %0, %1 = loom.linear_attention %q, %k, %v : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
  return
}

// -----

func.func @c191(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x2x16xf32>) {
  // expected-error @+1 {{'normalize' cannot be combined with rule = "delta": the delta rule's weights may be negative, so the denominator may vanish}}
  %0 = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta", normalize} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c192(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %s: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{'normalize' cannot be combined with an 'initial_state' operand: the state does not carry the normalizer}}
  %0 = loom.linear_attention %q, %k, %v initial_state(%s) {causal, normalize} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return
}

// -----

func.func @c193(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'normalize' cannot be combined with a 'final_state' result: the state does not carry the normalizer}}
  %0, %1 = loom.linear_attention %q, %k, %v {causal, normalize} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
  return
}

// -----

func.func @s0(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{attribute 'window' must have one value per query head (Hq = 4), found 3}}
  %0 = loom.attention %q, %k, %v {causal, window = array<i64: 4, 0, 4>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s1(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{attribute 'window' value for head 2 must be >= 0 (0: no window), found -1}}
  %0 = loom.attention %q, %k, %v {causal, window = array<i64: 4, 0, -1, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s2(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{attribute 'window' requires 'causal'}}
  %0 = loom.attention %q, %k, %v {window = array<i64: 4, 0, 4, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s3(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{attribute 'sink' must be >= 0, found -1}}
  %0 = loom.attention %q, %k, %v {causal, sink = -1 : i64, window = 4 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s4(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %s: tensor<4x1xf32>) {
  // expected-error @+1 {{'sink_logits' must have rank 1}}
  %0 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<4x1xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s5(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %s: tensor<4xbf16>) {
  // expected-error @+1 {{'sink_logits' must have element type f32}}
  %0 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<4xbf16>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s6(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{'sink_logits' dimension 0}}
  %0 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s7(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{attribute 'window' failed to satisfy constraint}}
  %0 = loom.attention %q, %k, %v {causal, window = 4.0 : f32} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s8(%q: tensor<1x?x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{attribute 'window' with one value per query head requires a static Hq ('q' dimension 1)}}
  %0 = loom.attention %q, %k, %v {causal, window = array<i64: 4, 0>} : (tensor<1x?x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x?x16x8xf32>
  return
}

// -----

func.func @s9(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %l: tensor<1x1x1x1xi1>) {
  // expected-error @+1 {{attribute 'window' requires 'causal'}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, window = 4 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x1x1xi1>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s10(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %l: tensor<1x1x1x1xi1>) {
  // expected-error @+1 {{attribute 'window' must be positive, found 0}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal, window = 0 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x1x1xi1>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s11(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %l: tensor<1x1x1x1xi1>) {
  // expected-error @+1 {{attribute 'window' must have one value per query head (Hq = 4), found 2}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal, window = array<i64: 4, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x1x1xi1>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s12(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %l: tensor<1x1x1x1xi1>) {
  // expected-error @+1 {{attribute 'sink' must be >= 0, found -2}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal, sink = -2 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x1x1xi1>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @s13(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %l: tensor<1x1x1x1xi1>, %s: tensor<3xf32>) {
  // expected-error @+1 {{'sink_logits' dimension 0}}
  %0 = loom.block_sparse_attention %q, %k, %v, %l, %s {block_q = 16 : i64, block_k = 16 : i64, causal} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x1x1xi1>, tensor<3xf32>) -> tensor<1x4x16x8xf32>
  return
}

// -----

func.func @paged_lse_rank(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'lse' must have rank 2 ([T, Hq]), found rank 3}}
  %0:2 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> (tensor<?x8x32xbf16>, tensor<1x?x8xf32>)
  return
}

// -----

func.func @paged_lse_type(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'lse' must have element type f32 (the log-sum-exp is f32), found bf16}}
  %0:2 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> (tensor<?x8x32xbf16>, tensor<?x8xbf16>)
  return
}

// -----

func.func @paged_lse_heads(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'lse' dimension 1 (Hq) must equal 'q' dimension 1: found 4 and 8}}
  %0:2 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> (tensor<?x8x32xbf16>, tensor<?x4xf32>)
  return
}

// -----

func.func @paged_lse_tokens(%q: tensor<9x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'lse' dimension 0 (T) must equal 'q' dimension 0: found 7 and 9}}
  %0:2 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<9x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> (tensor<9x8x32xbf16>, tensor<7x8xf32>)
  return
}

// -----

func.func @serving0(%q: tensor<1x8x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'q' must have rank 3 ([T, Hq, D]), found rank 4}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<1x8x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving1(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'k' must have rank 4 ([P, page, Hkv, D]), found rank 3}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving2(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'v' must have rank 4 ([P, page, Hkv, Dv]), found rank 3}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving3(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{result must have rank 3 ([T, Hq, Dv]), found rank 4}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<1x?x8x32xbf16>
  return
}

// -----

func.func @serving4(%q: tensor<?x8x64xi8>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'q' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xi8>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xi8>
  return
}

// -----

func.func @serving5(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'k' element type f16 must match 'q' element type bf16}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving6(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xf32>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'v' element type f32 must match 'q' element type bf16}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving7(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{result element type f32 must match 'q' element type bf16}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xf32>
  return
}

// -----

func.func @serving8(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4x1xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'q_offsets' must have rank 1 ([B + 1]), found rank 2}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4x1xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving9(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi64>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'q_offsets' must have element type i32 (indices are i32), found i64}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi64>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving10(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<i32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'kv_lens' must have rank 1 ([B]), found rank 0}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<i32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving11(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xindex>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'kv_lens' must have element type i32 (indices are i32), found index}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xindex>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving12(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<24xi32>) {
  // expected-error @+1 {{'block_table' must have rank 2 ([B, maxPages]), found rank 1}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<24xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving13(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xf32>) {
  // expected-error @+1 {{'block_table' must have element type i32 (indices are i32), found f32}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xf32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving14(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<32x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'v' dimension 0 (P) must equal 'k' dimension 0: found 32 and 64}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<32x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving15(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x8x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'v' dimension 1 (page) must equal 'k' dimension 1: found 8 and 16}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x8x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving16(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x1x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'v' dimension 2 (Hkv) must equal 'k' dimension 2: found 1 and 2}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x1x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving17(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x32xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'k' dimension 3 (D) must equal 'q' dimension 2: found 32 and 64}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x32xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving18(%q: tensor<7x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{result dimension 0 (T) must equal 'q' dimension 0: found 5 and 7}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<7x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<5x8x32xbf16>
  return
}

// -----

func.func @serving19(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{result dimension 1 (Hq) must equal 'q' dimension 1: found 4 and 8}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x4x32xbf16>
  return
}

// -----

func.func @serving20(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{result dimension 2 (Dv) must equal 'v' dimension 3: found 64 and 32}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving21(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<2x8xi32>) {
  // expected-error @+1 {{'block_table' dimension 0 (B) must equal 'kv_lens' dimension 0: found 2 and 3}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<2x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving22(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<3xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'q_offsets' dimension 0 (B + 1) must be 4, found 3}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<3xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving23(%q: tensor<?x8x64xbf16>, %k: tensor<64x0x2x64xbf16>, %v: tensor<64x0x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'k' dimension 1 (page size) must be positive, found 0}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x0x2x64xbf16>, tensor<64x0x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving24(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x0x64xbf16>, %v: tensor<64x16x0x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{'k' dimension 2 (Hkv) must be positive, found 0}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x0x64xbf16>, tensor<64x16x0x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving25(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x3x64xbf16>, %v: tensor<64x16x3x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{query heads (Hq = 8) must be a multiple of key/value heads (Hkv = 3)}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x3x64xbf16>, tensor<64x16x3x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving26(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'scale' must be finite, found inf}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {scale = 0x7F800000 : f32} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving27(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'softcap' must be positive, found -1}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {softcap = -1.0 : f32} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving28(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'window' must be positive, found 0}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {causal, window = 0 : i64} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving29(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'window' must have one value per query head (Hq = 8), found 2}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {causal, window = array<i64: 1, 2>} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving30(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'window' value for head 1 must be >= 0 (0: no window), found -2}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {causal, window = array<i64: 1, -2, 0, 0, 0, 0, 0, 0>} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving31(%q: tensor<?x?x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'window' with one value per query head requires a static Hq ('q' dimension 1)}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {causal, window = array<i64: 1, 2>} : (tensor<?x?x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x?x32xbf16>
  return
}

// -----

func.func @serving32(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'window' requires 'causal'}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {window = 4 : i64} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving33(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'sink' must be >= 0, found -1}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {causal, sink = -1 : i64, window = 4 : i64} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving34(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{has unknown attribute 'casual'}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {casual} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving35(%c: tensor<64x16x128xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'cache' must have rank 4 ([P, page, Hkv, D]), found rank 3}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x128xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x16x128xbf16>
  return
}

// -----

func.func @serving36(%c: tensor<64x16x2x64xi8>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'cache' must have an f32, f16 or bf16 element type, found i8}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xi8>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xi8>
  return
}

// -----

func.func @serving37(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x128xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'new_tokens' must have rank 3 ([T, Hkv, D]), found rank 2}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x128xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving38(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x64xf32>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'new_tokens' element type f32 must match 'cache' element type bf16}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x64xf32>, tensor<?xi32>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving39(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?x1xi32>) {
  // expected-error @+1 {{'slots' must have rank 1 ([T]), found rank 2}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?x1xi32>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving40(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi64>) {
  // expected-error @+1 {{'slots' must have element type i32 (indices are i32), found i64}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi64>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving41(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{result dimension 0 (same shape) must equal 'cache' dimension 0: found 32 and 64}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<32x16x2x64xbf16>
  return
}

// -----

func.func @serving42(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x4x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'new_tokens' dimension 1 (Hkv) must equal 'cache' dimension 2: found 4 and 2}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x4x64xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving43(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x32xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'new_tokens' dimension 2 (D) must equal 'cache' dimension 3: found 32 and 64}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x32xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving44(%c: tensor<64x16x2x64xbf16>, %n: tensor<5x2x64xbf16>, %s: tensor<3xi32>) {
  // expected-error @+1 {{'slots' dimension 0 (T) must equal 'new_tokens' dimension 0: found 3 and 5}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<5x2x64xbf16>, tensor<3xi32>) -> tensor<64x16x2x64xbf16>
  return
}

// -----

func.func @serving45(%c: tensor<64x0x2x64xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'cache' dimension 1 (page size) must be positive, found 0}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x0x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x0x2x64xbf16>
  return
}

// -----

func.func @serving46(%x: tensor<1x8x?x64xbf16>, %c: tensor<4096x32xf32>, %s: tensor<4096x32xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'x' must have rank 3 ([T, H, D] with 'positions'), found rank 4}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<1x8x?x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<?xi32>) -> tensor<1x8x?x64xbf16>
  return
}

// -----

func.func @serving47(%x: tensor<?x8x64xbf16>, %c: tensor<4096x32xf32>, %s: tensor<4096x32xf32>, %p: tensor<?x1xi32>) {
  // expected-error @+1 {{'positions' must have rank 1 ([T]), found rank 2}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<?x1xi32>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving48(%x: tensor<?x8x64xbf16>, %c: tensor<4096x32xf32>, %s: tensor<4096x32xf32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'positions' must have element type i32 (indices are i32), found i64}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<?xi64>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving49(%x: tensor<5x8x64xbf16>, %c: tensor<4096x32xf32>, %s: tensor<4096x32xf32>, %p: tensor<3xi32>) {
  // expected-error @+1 {{'positions' dimension 0 (T) must equal 'x' dimension 0: found 3 and 5}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<5x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<3xi32>) -> tensor<5x8x64xbf16>
  return
}

// -----

func.func @serving50(%x: tensor<?x8x64xbf16>, %c: tensor<4096x32xf32>, %s: tensor<4096x32xf32>) {
  // expected-error @+1 {{'x' must have rank 4 ([B, H, S, D]), found rank 3; a packed [T, H, D] 'x' takes a 'positions' operand}}
  %0 = loom.rope %x, %c, %s : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving51(%x: tensor<?x8x63xbf16>, %c: tensor<4096x31xf32>, %s: tensor<4096x31xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'x' dimension 2 (D) must be even, found 63}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x8x63xbf16>, tensor<4096x31xf32>, tensor<4096x31xf32>, tensor<?xi32>) -> tensor<?x8x63xbf16>
  return
}

// -----

func.func @serving52(%x: tensor<?x8x64xbf16>, %c: tensor<4096x32xf32>, %s: tensor<2048x32xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'sin' dimension 0 (N) must equal 'cos' dimension 0: found 2048 and 4096}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<2048x32xf32>, tensor<?xi32>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving53(%x: tensor<?x8x64xbf16>, %c: tensor<4096x16xf32>, %s: tensor<4096x32xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'cos' dimension 1 (D/2) must be 32, found 16}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x8x64xbf16>, tensor<4096x16xf32>, tensor<4096x32xf32>, tensor<?xi32>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving54(%x: tensor<?x8x64xbf16>, %c: tensor<4096xf32>, %s: tensor<4096x32xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'cos' must have rank 2 ([N, D/2]), found rank 1}}
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x8x64xbf16>, tensor<4096xf32>, tensor<4096x32xf32>, tensor<?xi32>) -> tensor<?x8x64xbf16>
  return
}

// -----

func.func @serving_sinks0(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{'sink_logits' must have rank 1 ([Hq]), found rank 2}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt, %s : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<8x1xf32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving_sinks1(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>, %s: tensor<8xbf16>) {
  // expected-error @+1 {{'sink_logits' must have element type f32 (one logit per query head), found bf16}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt, %s : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<8xbf16>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving_sinks2(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'sink_logits' dimension 0 (Hq) must equal 'q' dimension 1: found 4 and 8}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt, %s : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<4xf32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving_no_offsets(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<0xi32>, %l: tensor<?xi32>, %bt: tensor<?x8xi32>) {
  // expected-error @+1 {{'q_offsets' dimension 0 (B + 1) must be positive, found 0}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<0xi32>, tensor<?xi32>, tensor<?x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving_softcap_nan(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>) {
  // expected-error @+1 {{attribute 'softcap' must be finite, found nan}}
  %0 = loom.paged_attention %q, %k, %v, %off, %l, %bt {softcap = 0x7FC00000 : f32} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  return
}

// -----

func.func @serving_write_result_rank(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{result must have the rank of 'cache' (4), found rank 3}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x16x128xbf16>
  return
}

// -----

func.func @serving_write_result_type(%c: tensor<64x16x2x64xbf16>, %n: tensor<?x2x64xbf16>, %s: tensor<?xi32>) {
  // expected-error @+1 {{result element type f32 must match 'cache' element type bf16}}
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xf32>
  return
}
