// Public functions that the module ABI cannot carry.
func.func @scalar(%x: f32) -> tensor<4xf32> {
  %y = tensor.splat %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func @"not.an.identifier"(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @odd_i4(%x: tensor<3xi4>) -> tensor<3xi4> {
  return %x : tensor<3xi4>
}
func.func @index_tensor(%x: tensor<3xindex>) -> tensor<3xindex> {
  return %x : tensor<3xindex>
}
