// The runtime's CUDA part: the driver API, loaded with dlopen on first use.
//
// No CUDA header or library is needed to build: the few driver types and
// entry points used are declared in Cuda.cpp and resolved at run time, so the
// runtime builds and its CPU path runs on machines without a GPU or driver.
#ifndef LOOM_LIB_RUNTIME_CUDA_H
#define LOOM_LIB_RUNTIME_CUDA_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {
namespace runtime {
namespace cuda {

/// Loads the driver (once; later calls return the first outcome), calls
/// cuInit, checks that there is a GPU and makes device 0's primary context
/// current on this thread. The driver's path is libcuda.so.1, or the
/// LOOM_CUDA_DRIVER environment variable when set (tests use it to point at
/// a missing file on machines that have a driver).
bool init(std::string &error);

bool allocate(size_t bytes, uint64_t &pointer, std::string &error);
void release(uint64_t pointer);
bool copyToDevice(uint64_t destination, const void *source, size_t bytes,
                  std::string &error);
bool copyToHost(void *destination, uint64_t source, size_t bytes,
                std::string &error);
bool synchronize(std::string &error);

} // namespace cuda
} // namespace runtime
} // namespace loom

#endif // LOOM_LIB_RUNTIME_CUDA_H
