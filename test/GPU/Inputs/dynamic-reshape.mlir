// A reshape of a dynamic tensor into two dynamic sizes
// (dynamic-expand-shape.mlir).
func.func @reshape(%t: tensor<?xf32>, %shape: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %shape, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %shape, %c1 : tensor<?x?xf32>
  %e = tensor.expand_shape %t [[0, 1]] output_shape [%d0, %d1] : tensor<?xf32> into tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}
